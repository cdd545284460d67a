"""What a feature declares: its states, steps, hints, buttons, commands, entries, look-ups, jobs.

A feature module builds one ``Flow`` and the registry lists it; the engine (handlers/engine.py)
runs every flow the same way. Nothing here knows a feature by name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

import aiosqlite

from handlers.context import MAX_ID_DIGITS
from handlers.events import Button, Inbound, Outgoing, Reply
from storage.sql import Statement

if TYPE_CHECKING:
    from handlers.context import Context, Deps, Lookup, Step
    from handlers.municipality import Municipality
    from storage.users import User

TELEGRAM_DATA_LIMIT = 64  # bytes of callback_data


class Role(StrEnum):
    """Who may use a command, a button or a flow; each role includes the ones before it.

    A feature's own role (the librarian) stands beside the operators: it admits its holders and
    the admins.
    """

    RESIDENT = "resident"
    OPERATOR = "operator"
    ADMIN = "admin"
    LIBRARIAN = "librarian"

    def admits(self, user: User) -> bool:
        """Whether ``user``, with the role stored now, may act in this role."""
        return self.admits_role(user.role)

    def admits_role(self, role: str) -> bool:
        """Whether the holders of a stored role may act in this role (the role alone decides)."""
        if self is Role.RESIDENT:
            return True
        if self is Role.OPERATOR:
            return role in ("admin", "operator")
        if self is Role.LIBRARIAN:
            return role in ("librarian", "admin")
        return role == "admin"


class ButtonData:
    """Typed data carried by a button: a prefix and fields, packed as ``prefix:f1:f2``.

    Subclasses are frozen dataclasses with ``int`` and ``str`` fields (only the last may hold a
    colon). Packing checks Telegram's 64 bytes; unpacking is the only place button data is
    parsed, and data that does not unpack is ``None`` (the engine then treats it as typed text).
    """

    prefix: ClassVar[str]
    role: ClassVar[Role] = Role.RESIDENT  # who may press it
    in_groups: ClassVar[bool] = False  # pressed in a staff chat (a card's buttons)
    _types: ClassVar[dict[str, type[ButtonData]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "prefix" in cls.__dict__:
            known = ButtonData._types.get(cls.prefix)
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise TypeError(f"button prefix {cls.prefix!r} is taken by {known.__qualname__}")
            ButtonData._types[cls.prefix] = cls

    def pack(self) -> str:
        """The messenger's button data."""
        values = [str(getattr(self, name)) for name in _field_names(type(self))]
        data = ":".join([self.prefix, *values])
        # A character is at most 4 bytes: short data needs no encoding to be measured.
        if len(data) * 4 > TELEGRAM_DATA_LIMIT and len(data.encode()) > TELEGRAM_DATA_LIMIT:
            raise ValueError(f"button data over {TELEGRAM_DATA_LIMIT} bytes: {data[:20]}...")
        return data

    def button(self, label: str) -> Button:
        """A button with this data under ``label``."""
        return Button(label, self.pack())

    @classmethod
    def unpack(cls, raw: str) -> Self | None:
        """This class's data from ``raw``, or None when it does not fit."""
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        prefix, *parts = raw.split(":", len(fields)) if fields else [raw]
        if prefix != cls.prefix or len(parts) > len(fields):
            return None
        # A field added later with a default (a preview's mark) may be missing from a button
        # sent before it was added: such a button still works as it did.
        if any(f.default is dataclasses.MISSING for f in fields[len(parts) :]):
            return None
        values: dict[str, Any] = {}
        for f, part in zip(fields, parts, strict=False):
            value = _parse_field(str(f.type), part)
            if value is None:
                return None
            values[f.name] = value
        return cls(**values)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def draft_mark(draft: Mapping[str, Any]) -> str:
    """A short fingerprint of a preview's draft, carried by its confirm buttons: a button under
    an earlier preview (the admin has previewed something else since) no longer matches it.
    (A button sent before marks existed has none: ``stale_mark`` lets it through.)"""
    # The buttons the engine keeps beside the draft are not part of what was previewed.
    kept = {key: value for key, value in draft.items() if key != SHOWN}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def stale_mark(mark: str, draft: Mapping[str, Any]) -> bool:
    """Whether a confirm button's mark belongs to an earlier preview than the draft's."""
    return bool(mark) and mark != draft_mark(draft)


@dataclass(frozen=True, slots=True)
class PreviewDecision(ButtonData):
    """A decision under a preview (send, import, publish, or drop it): ``action``, and the
    ``mark`` of the previewed draft. The engine answers one pressed under an earlier preview
    ("no longer valid") before its step runs; a button sent before marks existed has none and
    works as it did. Subclasses name only their ``prefix`` and ``role``."""

    action: str
    mark: str = ""

    @classmethod
    def under(cls, action: str, draft: Mapping[str, Any]) -> Self:
        """The decision ``action`` under the preview of ``draft``."""
        return cls(action, draft_mark(draft))


def _field_names(kind: type[ButtonData]) -> tuple[str, ...]:
    """A kind of button's fields, in order (looked up once: every reply packs its buttons)."""
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))  # type: ignore[arg-type]
    return names


def _parse_field(kind: str, part: str) -> int | str | None:
    if kind == "int":
        ok = part.isascii() and part.isdigit() and len(part) <= MAX_ID_DIGITS
        return int(part) if ok else None
    return part or None


def unpack_button(raw: str) -> ButtonData | None:
    """The typed data of a pressed button, or None (stale, malformed or made up)."""
    cls = ButtonData._types.get(raw.split(":", 1)[0])
    return cls.unpack(raw) if cls is not None else None


@dataclass(frozen=True, slots=True)
class StepAction(ButtonData):
    """A typed step's standard button: ``cancel`` (where /cancel goes) or ``skip`` (as typing
    ``SKIP_WORD``). It names the state it was shown in: one under an earlier step is stale."""

    prefix = "step"
    action: str
    state: str


SKIP_WORD = "-"  # what a person types to skip a step that may be skipped
SHOWN = "_shown"  # the draft key of the buttons a state without a prompt showed (engine)


@dataclass(frozen=True, slots=True)
class Typed:
    """A step where the person types: its standard buttons are Cancel and, where the step may
    be skipped, Skip (typing ``SKIP_WORD`` keeps working). On Viber a step without buttons
    leaves only /cancel, which few residents know."""

    skip: bool = False


StepFn = Callable[["Context", Any], Awaitable["Step | None"]]
Prompt = Callable[["Context"], list[Reply]]
LookUpFn = Callable[["Deps", Inbound], Awaitable["Lookup | None"]]
JobFn = Callable[[aiosqlite.Connection, "Municipality", datetime], Awaitable[list[Outgoing]]]
PrepareFn = Callable[["Municipality", datetime], Awaitable[JobFn]]
Kind = type  # an event class (Text, Photo, ...) or a ButtonData class


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A slash command: who may use it, its help line, and whether command menus list it.

    ``leaves`` says that it takes the user somewhere else: in a state that keeps a draft (a
    report being written, an awaited answer) the engine asks to finish first instead. For a
    command whose sub-commands differ (``/consult new`` starts a wizard, ``/consult`` alone
    answers in place) it is a test of the command's words.
    """

    name: str
    run: Callable[[Context, str], Awaitable[Step]]
    role: Role = Role.RESIDENT
    help: str = ""  # a msgid (N_), shown by /help and in the command menus
    listed: bool = False  # in the messenger's command menu
    leaves: bool | Callable[[str], bool] = True

    def leaves_with(self, args: str) -> bool:
        """Whether the command with these words takes the user somewhere else."""
        return self.leaves(args) if callable(self.leaves) else self.leaves


@dataclass(frozen=True, slots=True)
class Entry:
    """A main-menu button: its label (a msgid), its data, what it opens, and for whom."""

    label: str
    data: ButtonData
    run: Callable[[Context], Awaitable[Step]]
    order: int
    role: Role = Role.RESIDENT


@dataclass(frozen=True, slots=True)
class Anywhere:
    """A button that works from any state (a notice's button, a list outside the menu)."""

    step: StepFn
    leaves: bool = True  # False: it answers and the user stays where they were


@dataclass(frozen=True, slots=True)
class Start:
    """What an event begins where the current state has no step for it and holds no work.

    A photo or a location from the main menu starts a report; ``look_up`` is its slow work
    before the transaction, as a flow's look-ups are for its own states.
    """

    step: StepFn
    look_up: LookUpFn | None = None


@dataclass(frozen=True, slots=True)
class ReadAhead:
    """A value a flow's steps may need, read with the batch's first hop instead of one of its own.

    ``statement`` is built from the event's user (``channel``, ``external_id``) and the event's
    moment; its first row's first column is the value (``Context.ahead[name]``), None without
    a row. It is read for the events that ``wanted`` says may need it, given the user's state
    as the dispatcher last saw it (every event of a user whose state it does not know); a step
    that finds no value read ahead (the state changed meanwhile: an operator's /ask) reads it
    itself.
    """

    name: str
    statement: Callable[[str, str, datetime], Statement]
    wanted: Callable[[str, Inbound], bool] = lambda state, event: True


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled job: every ``seconds``, or daily at ``at`` (the municipality's time).

    ``prepare`` does slow work (a download) before the transaction and returns what to run in it.
    """

    name: str
    run: JobFn
    seconds: float = 0
    at: time | None = None
    prepare: PrepareFn | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    """One feature's conversation, as data the engine runs.

    ``steps`` maps (state, kind) to a step function, where kind is the class of the event or of
    the pressed button's data. ``keeps`` are states holding work a stray command or menu button
    must not drop (the engine answers with ``guard`` or the hint). ``role`` is checked on every
    step of the flow's states; ``in_groups`` lets its states' steps run in a staff chat.
    """

    name: str
    states: type[Enum] | None = None
    steps: Mapping[tuple[Any, Kind], StepFn] = field(default_factory=dict)
    hints: Mapping[Any, str] = field(default_factory=dict)
    prompts: Mapping[Any, Prompt] = field(default_factory=dict)
    typed: Mapping[Any, Typed] = field(default_factory=dict)  # steps where the person types
    anywhere: Mapping[type[ButtonData], Anywhere] = field(default_factory=dict)
    commands: tuple[CommandSpec, ...] = ()
    entries: tuple[Entry, ...] = ()
    look_ups: Mapping[tuple[Any, Kind], LookUpFn] = field(default_factory=dict)
    starts: Mapping[Kind, Start] = field(default_factory=dict)
    greeting: Prompt | None = None  # offered once to a new user, after the welcome
    jobs: tuple[Job, ...] = ()
    reads_ahead: tuple[ReadAhead, ...] = ()
    keeps: frozenset[Any] = frozenset()
    guard: Prompt | None = None
    cancel: Callable[[Context], Step] | None = None
    role: Role = Role.RESIDENT
    state_roles: Mapping[Any, Role] = field(default_factory=dict)
    in_groups: bool = False

    def role_in(self, state: str) -> Role:
        """Who may take the steps of ``state``."""
        if self.states is None:
            return self.role
        return self.state_roles.get(self.states(state), self.role)

    def typed_in(self, state: str) -> Typed | None:
        """How ``state`` is typed, if the person types in it."""
        if self.states is None or not self.typed:
            return None
        return self.typed.get(self.states(state))

    def owns(self, state: str) -> bool:
        """Whether ``state`` is one of this flow's states."""
        return self.states is not None and state in self.states._value2member_map_


class Registry:
    """Every flow, indexed once: the engine, the menu, /help, command menus and jobs read it."""

    def __init__(self, flows: tuple[Flow, ...], *, home: str, first: str) -> None:
        self.flows = flows
        self.home = home  # the one fallback: the main menu
        self.first = first  # where a user without a language starts
        self._commands: dict[str, CommandSpec] = {}
        self._anywhere: dict[type[ButtonData], Anywhere] = {}
        self._starts: dict[Kind, Start] = {}
        self._by_action: dict[str, Entry] = {}
        for flow in flows:
            for command in flow.commands:
                if command.name in self._commands:
                    raise ValueError(f"command /{command.name} is declared twice")
                self._commands[command.name] = command
            for kind, anywhere in flow.anywhere.items():
                if kind in self._anywhere:
                    raise ValueError(f"button {kind.prefix} works from anywhere twice")
                self._anywhere[kind] = anywhere
            for event_kind, start in flow.starts.items():
                if event_kind in self._starts:
                    raise ValueError(f"{event_kind.__name__} starts two flows")
                self._starts[event_kind] = start
            for entry in flow.entries:
                self._by_action[entry.data.pack()] = entry
        # The kinds of events that have slow work in some state: only they need the state
        # before the transaction (a button or a command never has).
        self.slow_kinds = frozenset(
            {kind for flow in flows for _, kind in flow.look_ups}
            | {kind for kind, start in self._starts.items() if start.look_up is not None}
        )
        # Each state's flow, the first that owns it (looked up several times per event).
        self._by_state: dict[str, Flow] = {}
        for flow in flows:
            for value in flow.states._value2member_map_ if flow.states is not None else ():
                self._by_state.setdefault(str(value), flow)
        self.entries = sorted(self._by_action.values(), key=lambda e: e.order)
        self.jobs = tuple(job for flow in flows for job in flow.jobs)
        self.reads_ahead = tuple(read for flow in flows for read in flow.reads_ahead)
        if len({read.name for read in self.reads_ahead}) != len(self.reads_ahead):
            raise ValueError("a value read ahead is declared twice")
        # What a new user is offered once, after the first choice of a language.
        self.greetings = tuple(flow.greeting for flow in flows if flow.greeting is not None)
        home_flow = self.flow_of(home)
        if home_flow is None or home_flow.states is None:
            raise ValueError(f"no flow has the home state {home!r}")
        self.home_prompt = home_flow.prompts[home_flow.states(home)]

    def flow_of(self, state: str) -> Flow | None:
        """The flow whose state ``state`` is."""
        return self._by_state.get(state)

    def command(self, name: str) -> CommandSpec | None:
        """The command called ``name``."""
        return self._commands.get(name)

    @property
    def commands(self) -> tuple[CommandSpec, ...]:
        """Every command, in the order the flows declare them."""
        return tuple(self._commands.values())

    def anywhere(self, kind: type[ButtonData]) -> Anywhere | None:
        """What a button that works from anywhere does."""
        return self._anywhere.get(kind)

    def start(self, kind: Kind) -> Start | None:
        """What an event of ``kind`` begins where nothing else takes it."""
        return self._starts.get(kind)

    def entry(self, data: ButtonData) -> Entry | None:
        """The main-menu entry of a pressed menu button."""
        return self._by_action.get(data.pack())

    def staff_states(self) -> list[str]:
        """The states whose steps only staff may take (dropped when someone is demoted)."""
        return [
            str(state)
            for flow in self.flows
            if flow.states is not None
            for state in flow.states
            if flow.role_in(str(state)) is not Role.RESIDENT
        ]

    def entries_for(self, user: User) -> list[Entry]:
        """The main-menu entries this user is shown."""
        return self.entries_for_role(user.role)

    def entries_for_role(self, role: str) -> list[Entry]:
        """The main-menu entries the holders of a role are shown."""
        return [e for e in self.entries if e.role.admits_role(role)]
