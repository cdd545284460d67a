"""The conversation engine: every flow is run the same way, in one order of precedence.

1. blocked: the user blocked the bot; stop sending, keep the data;
2. staff chats: only staff commands, the buttons of cards, and the steps of flows that run in
   groups (an answer asked for by the bot, given as a reply to the bot's own question);
3. commands, with the role their declaration names;
4. buttons that work from anywhere (a notice's button, the main menu);
5. the current state's table: (state, kind of event or of button) -> step;
6. what the event starts, where the state has no step for it and holds no work (a photo or a
   location from the main menu starts a report);
7. the hint of the current state, and its question again.

A step where the person types (``Flow.typed``) ends its replies with the standard buttons Cancel
and, where it may be skipped, Skip: on Viber a step without buttons leaves only /cancel. A state
without a prompt of its own (a preview) keeps the buttons it showed (``remember_screen``): its
hint shows them again, not the main menu's, which on Viber would replace them.

Roles are checked from the declarations on every command, button and step, at the moment of
acting. Interrupting a flow and coming back (a question from the municipality, a comment, a
language change) is ``interrupt`` and ``resume``; the one fallback is the main menu.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from handlers.context import Context, Deps, Lookup, Step, column
from handlers.events import (
    Blocked,
    Button,
    ButtonChoice,
    Choices,
    Command,
    Inbound,
    Reply,
    Sender,
    Text,
)
from handlers.flow import (
    SHOWN,
    SKIP_WORD,
    ButtonData,
    Flow,
    Kind,
    PreviewDecision,
    Registry,
    Role,
    Start,
    StepAction,
    stale_mark,
    unpack_button,
)
from storage import subscriptions, users

log = logging.getLogger(__name__)
RESUME = "_resume"  # the draft key under which an interrupted state and draft wait


async def handle(ctx: Context, event: Inbound) -> Step:
    """Answer one event (a typed step's replies end with its standard buttons)."""
    step = await answer(ctx, event)
    if event.sender.group:
        return step
    return remember_screen(ctx, with_typed_buttons(ctx, step))


async def answer(ctx: Context, event: Inbound) -> Step:
    """Answer one event, in the order of precedence above."""
    if isinstance(event, Blocked):
        await users.mark_unreachable(ctx.conn, ctx.user.channel, ctx.user.chat_id)
        await subscriptions.unsubscribe_all(ctx.conn, ctx.user.id)
        return stay(ctx)
    if event.sender.group:
        return await in_staff_chat(ctx, event)
    if isinstance(event, Command):
        return await run_command(ctx, event)
    if ctx.user.language is None or not ctx.state:
        return await first_contact(ctx, event)
    if isinstance(event, ButtonChoice):
        data = unpack_button(event.data)
        # Stale, malformed or made up: like typed text.
        return await press(ctx, data) if data is not None else explain(ctx)
    return await by_state(ctx, type(event), event) or await begin(ctx, event) or explain(ctx)


async def begin(ctx: Context, event: Inbound) -> Step | None:
    """Start what the event begins, unless the current state has a use for it or waits."""
    start = starts_here(ctx.registry, ctx.state, type(event))
    if start is None or is_interruption(ctx):
        return None
    return await start.step(ctx, event)


def starts_here(registry: Registry, state: str, kind: Kind) -> Start | None:
    """What ``kind`` begins in ``state``: nothing where the state uses it or keeps work."""
    flow = registry.flow_of(state)
    if flow is None or flow.states is None:
        return None
    here = flow.states(state)
    if (here, kind) in flow.steps or here in flow.keeps:
        return None
    return registry.start(kind)


async def first_contact(ctx: Context, event: Inbound) -> Step:
    """Someone without a language (or a conversation): only the first state's steps count."""
    ctx.state = ctx.registry.first
    data = unpack_button(event.data) if isinstance(event, ButtonChoice) else None
    step = await by_state(ctx, type(data), data) if data is not None else None
    return step or Step(ctx.state, {}, prompt(ctx))


async def in_staff_chat(ctx: Context, event: Inbound) -> Step:
    """In a staff chat only staff commands, staff buttons and the steps of group flows count."""
    if isinstance(event, Command):
        command = ctx.registry.command(event.name)
        if event.name == "cancel" and is_interruption(ctx):
            return resume(ctx, [Reply(ctx.t.gettext("Cancelled."))], ask_again=False)
        if command is not None and command.role is not Role.RESIDENT:
            return await run_command(ctx, event)
        return stay(ctx)
    if isinstance(event, ButtonChoice):
        data = unpack_button(event.data)
        if data is None or not type(data).in_groups:
            return stay(ctx)
        return await press(ctx, data)
    flow = ctx.registry.flow_of(ctx.state)
    if flow is None or not flow.in_groups:
        return stay(ctx)
    return await by_state(ctx, type(event), event) or stay(ctx)


async def run_command(ctx: Context, event: Command) -> Step:
    """Run a command after checking who may use it, and whether it would drop kept work."""
    _ = ctx.t.gettext
    command = ctx.registry.command(event.name)
    if command is None:
        unknown = Reply(_("I do not know the command /{name}.", name=event.name[:32]))
        return prepend(unknown, explain(ctx))
    if not command.role.admits(ctx.user):
        return refuse(ctx, f"/{event.name}")
    if command.role is Role.RESIDENT and ctx.user.language is None:
        ctx.state, ctx.draft = ctx.registry.first, {}
        return stay(ctx, prompt(ctx))
    args = event.args.strip()
    if command.leaves_with(args) and keeps_work(ctx):
        return guard(ctx)
    return await command.run(ctx, args)


async def press(ctx: Context, data: ButtonData) -> Step:
    """A pressed button's typed data: its role, then anywhere or the current state's table."""
    kind = type(data)
    if not kind.role.admits(ctx.user):
        return refuse(ctx, f"button {kind.prefix}", alert=True)
    anywhere = ctx.registry.anywhere(kind)
    if anywhere is not None:
        if anywhere.leaves and keeps_work(ctx):
            return guard(ctx)
        return await anywhere.step(ctx, data) or explain(ctx)
    return await by_state(ctx, kind, data) or explain(ctx)


async def by_state(ctx: Context, kind: Kind, payload: Any) -> Step | None:
    """The step the current state's table names for this kind of event, if any."""
    flow = ctx.registry.flow_of(ctx.state)
    if flow is None or flow.states is None:
        return None
    if not flow.role_in(ctx.state).admits(ctx.user):
        # Demoted since the flow began: nothing prepared before goes out.
        log.warning("user %s left a %s flow: no longer allowed", ctx.user.id, flow.name)
        return leave_for_menu(
            ctx, ctx.t.gettext("This is for municipal staff only; nothing was changed.")
        )
    step = flow.steps.get((flow.states(ctx.state), kind))
    if step is None:
        return None
    if isinstance(payload, PreviewDecision) and stale_mark(payload.mark, ctx.draft):
        return stale_button(ctx)  # pressed under an earlier preview: nothing is done
    return await step(ctx, payload)


# The standard buttons of a step where the person types.


def typed_buttons(ctx: Context, state: str | None = None) -> Choices | None:
    """Cancel, and Skip where the step may be skipped, for a typed step in ``state`` (by default
    the current one); None where the person does not type."""
    state = ctx.state if state is None else state
    flow = ctx.registry.flow_of(state)
    typed = flow.typed_in(state) if flow is not None else None
    if typed is None:
        return None
    _ = ctx.t.gettext
    skip = [StepAction("skip", state).button(_("⏭ Skip"))] if typed.skip else []
    return column([*skip, StepAction("cancel", state).button(_("✖️ Cancel"))])


def with_typed_buttons(ctx: Context, step: Step) -> Step:
    """``step`` with a typed step's buttons on its last reply (after the reply's own choices)."""
    keys = typed_buttons(ctx, step.state) if step.replies else None
    if keys is None:
        return step
    last = step.replies[-1]
    if last.markup is None:
        markup = keys
    elif isinstance(last.markup, Choices) and keys.rows[-1] not in last.markup.rows:
        markup = Choices(last.markup.rows + keys.rows)
    else:  # a keyboard of another kind (the location's), or the buttons are there already
        return step
    step.replies[-1] = replace(last, markup=markup)
    return step


async def take_step_action(ctx: Context, press: StepAction) -> Step | None:
    """A typed step's Cancel (what /cancel does) or Skip (as typing ``SKIP_WORD``)."""
    flow = _flow_here(ctx)
    typed = flow.typed_in(ctx.state) if flow is not None else None
    if typed is None or press.state != ctx.state:
        return stale_button(ctx)
    cancel = ctx.registry.command("cancel")
    if press.action == "cancel" and cancel is not None:
        return await cancel.run(ctx, "")
    if press.action == "skip" and typed.skip:
        sender = Sender(ctx.user.channel, ctx.user.external_id, ctx.chat_id or ctx.user.chat_id)
        return await by_state(ctx, Text, Text(sender, SKIP_WORD))
    return None


# The buttons a state without a prompt of its own showed (a preview's Send and Cancel).


def remember_screen(ctx: Context, step: Step) -> Step:
    """Keep in the draft the buttons that a state without a prompt of its own last showed: such
    a state cannot ask again (a preview), so its hint shows them again."""
    flow = ctx.registry.flow_of(step.state)
    if flow is None or flow.states is None:
        return step
    here = flow.states(step.state)
    if here in flow.prompts or here in flow.typed:
        if SHOWN in step.draft:
            step.draft = {k: v for k, v in step.draft.items() if k != SHOWN}
        return step
    shown = next((r.markup for r in reversed(step.replies) if isinstance(r.markup, Choices)), None)
    if shown is not None:
        rows = [[[b.label, b.data] for b in row] for row in shown.rows]
        step.draft = {**step.draft, SHOWN: {"state": step.state, "rows": rows}}
    return step


def shown_markup(ctx: Context) -> Choices | None:
    """The buttons the current state last showed (``remember_screen``), or None."""
    shown = ctx.draft.get(SHOWN)
    if not isinstance(shown, dict) or shown.get("state") != ctx.state:
        return None  # kept by another state (a draft carried over), or none
    rows = shown.get("rows")
    if not isinstance(rows, list):
        return None
    return Choices(tuple(tuple(Button(str(b[0]), str(b[1])) for b in row) for row in rows))


def _flow_here(ctx: Context) -> Flow | None:
    """The flow of the current state."""
    return ctx.registry.flow_of(ctx.state)


def keeps_work(ctx: Context) -> bool:
    """Whether the current state holds work that a stray command or menu button must not drop."""
    flow = _flow_here(ctx)
    return flow is not None and flow.states is not None and flow.states(ctx.state) in flow.keeps


def guard(ctx: Context) -> Step:
    """Keep the work: say where the user is and how to finish or drop it."""
    flow = _flow_here(ctx)
    if flow is not None and flow.guard is not None and not is_interruption(ctx):
        return stay(ctx, flow.guard(ctx))
    return explain(ctx)


def explain(ctx: Context) -> Step:
    """Say what the current state expects, and ask again (an unknown state: the main menu)."""
    flow = _flow_here(ctx)
    hint = None
    if flow is not None and flow.states is not None:
        hint = flow.hints.get(flow.states(ctx.state))
    if hint is None:
        ctx.state, ctx.draft = ctx.registry.home, {}
        return explain(ctx)
    asked = prompt(ctx)
    markup = None if asked else shown_markup(ctx)  # a preview's buttons go with its hint
    return stay(ctx, [Reply(ctx.t.gettext(hint), markup), *asked])


def prompt(ctx: Context) -> list[Reply]:
    """The current state's question again: its own prompt (the languages during a /language in
    the middle of a flow too). A one-off question or a typed step without one has its hint and
    its buttons, and a state that showed buttons of its own (a preview) has them with the hint;
    any other state falls back to the main menu."""
    flow = _flow_here(ctx)
    ask = None
    if flow is not None and flow.states is not None:
        ask = flow.prompts.get(flow.states(ctx.state))
    if ask is not None:
        return ask(ctx)
    if is_interruption(ctx) or typed_buttons(ctx) is not None or shown_markup(ctx) is not None:
        return []
    return ctx.registry.home_prompt(ctx)


def stale_button(ctx: Context) -> Step:
    """A button under an earlier preview: nothing is done; what the current state expects."""
    return prepend(Reply(ctx.t.gettext("That button is no longer valid.")), explain(ctx))


def stay(ctx: Context, replies: list[Reply] | None = None) -> Step:
    """Answer without moving the conversation."""
    return Step(ctx.state, ctx.draft, list(replies or []))


def prepend(reply: Reply, step: Step) -> Step:
    """``step`` with ``reply`` said first."""
    step.replies.insert(0, reply)
    return step


def leave_for_menu(ctx: Context, text: str | None = None) -> Step:
    """Go to the main menu (the one fallback), optionally under a message."""
    ctx.state, ctx.draft = ctx.registry.home, {}
    return stay(ctx, [*([Reply(text)] if text else []), *prompt(ctx)])


def refuse(ctx: Context, what: str, *, alert: bool = False) -> Step:
    """Tell someone who is not allowed, change nothing, and log the attempt (without content)."""
    log.warning("user %s (%s) was refused %s", ctx.user.id, ctx.user.role, what)
    # An alert on the button is read by the presser alone: in their language, even in a group.
    t = ctx.own_t if alert else ctx.t
    text = t.gettext("This is for municipal staff only; nothing was changed.")
    step = stay(ctx)
    if alert:
        step.alert = text
    else:
        step.replies.append(Reply(text))
    return step


# Interrupting a flow and coming back.


def is_interruption(ctx: Context) -> bool:
    """Whether the current state is a one-off question with a state waiting to be resumed."""
    return RESUME in ctx.draft


def resume_point(state: str, draft: dict[str, Any], *, nest: bool = False) -> dict[str, Any]:
    """Where to come back to after a one-off question.

    A question asked during another one replaces it (its resume point is kept), unless ``nest``:
    then the first question is itself resumed afterwards (a language change while an answer is
    awaited).
    """
    if RESUME in draft and not nest:
        return dict(draft[RESUME])
    return {"state": state, "draft": draft}


def interrupted(
    state: str, draft: dict[str, Any], new_state: str, *, nest: bool = False, **fields: Any
) -> tuple[str, dict[str, Any]]:
    """The state and draft of a one-off question asked in ``state``/``draft``."""
    return new_state, {**fields, RESUME: resume_point(state, draft, nest=nest)}


def interrupt(
    ctx: Context, new_state: str, replies: list[Reply], *, nest: bool = False, **fields: Any
) -> Step:
    """Ask a one-off question; the current state and draft wait to be resumed."""
    state, draft = interrupted(ctx.state, ctx.draft, new_state, nest=nest, **fields)
    return Step(state, draft, replies)


def resume(ctx: Context, before: list[Reply], *, ask_again: bool = True) -> Step:
    """Go back to where the user was before the question (or to the main menu)."""
    saved = ctx.draft.get(RESUME) or {}
    state = str(saved.get("state") or ctx.registry.home)
    draft = saved.get("draft")
    ctx.state, ctx.draft = state, draft if isinstance(draft, dict) else {}
    if _flow_here(ctx) is None:
        ctx.state, ctx.draft = ctx.registry.home, {}
    return Step(ctx.state, ctx.draft, [*before, *(prompt(ctx) if ask_again else [])])


def may_look_up(registry: Registry, event: Inbound) -> bool:
    """Whether some state has slow work for this kind of event (else its state is not needed)."""
    return type(event) in registry.slow_kinds


async def look_up(deps: Deps, registry: Registry, state: str, event: Inbound) -> Lookup | None:
    """Do an event's slow work (network, disk) before the transaction, as its state's flow says."""
    flow = registry.flow_of(state)
    if flow is None or flow.states is None:
        return None
    work = flow.look_ups.get((flow.states(state), type(event)))
    if work is None and not event.sender.group:  # a staff group's event starts nothing
        start = starts_here(registry, state, type(event))
        work = start.look_up if start is not None else None
    return await work(deps, event) if work is not None else None


def button_kinds(registry: Registry) -> list[type[ButtonData]]:
    """Every kind of button, for tests that check their data."""
    del registry
    return list(ButtonData._types.values())
