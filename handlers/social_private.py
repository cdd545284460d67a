"""Ask the Centre (a private question) and anonymous feedback on a right or service used.

A question reaches only the Centre's staff that the municipality file names, in their private
chats: never a staff group, never a report (so no export or open data has it), never a log line.
Feedback names no one: it is published only as counts, and no count under 5 is shown. It comes
only from someone who applied for or used the right: the Centre's staff print one-time codes
(``/centrecodes RIGHT N``) and hand one to each such person; feedback is taken with an unused code
of that right, which it uses up. Nothing links a code to a person, so no list of who gave feedback
is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from handlers import engine
from handlers.context import Context, Step, column, parse_id
from handlers.events import Outgoing, Reply, Text
from handlers.flow import Anywhere, ButtonData, CommandSpec, Flow, Typed
from handlers.i18n import Translator, translator
from handlers.menu import MenuState, main_menu_button, menu_reply
from handlers.texts import N_
from storage import social, users

MAX_TEXT = 2000
MIN_PUBLISHED = 5  # a smaller count could point at a person
RATINGS = ("good", "fair", "bad")
RATING_NAMES = {"good": N_("👍 Good"), "fair": N_("👌 Fair"), "bad": N_("👎 Bad")}


# Codes are read aloud and typed on phones: no letters that look like digits (O, I, L, S, Z, B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY2345679"
CODE_LENGTH = 8
MAX_CODES = 50


class PrivateState(StrEnum):
    """A resident writing a question to the Centre, or giving feedback with a code."""

    ASK = "social:ask"
    FEEDBACK_CODE = "social:feedback_code"
    FEEDBACK = "social:feedback"


@dataclass(frozen=True, slots=True)
class AskCentre(ButtonData):
    """Ask the Centre a private question."""

    prefix = "socask"


@dataclass(frozen=True, slots=True)
class GiveFeedback(ButtonData):
    """I used this right or service: did I receive it (``answer``: ask, yes, no)?"""

    prefix = "socfb"
    key: str
    answer: str


@dataclass(frozen=True, slots=True)
class RateIt(ButtonData):
    """How it went: good, fair or bad."""

    prefix = "socrt"
    key: str
    rating: str


def _centre_staff(ctx: Context) -> list[tuple[str, str]]:
    guide = ctx.municipality.social
    return list(guide.centre_staff) if guide else []


async def start_question(ctx: Context, press: AskCentre) -> Step:
    """Ask for the question; what the resident was doing waits."""
    del press
    text = ctx.t.gettext(
        "Write your question to the Centre for Social Work. Only the Centre's staff will read it,"
        " and they will answer you here. (/cancel to stop)"
    )
    ctx.state, ctx.draft = MenuState.MAIN, {}
    return engine.interrupt(ctx, PrivateState.ASK, [Reply(text)])


async def send_question(ctx: Context, event: Text) -> Step | None:
    """Store the question and send it to the Centre's staff, in private."""
    text = event.text.strip()[:MAX_TEXT]
    if not text:
        return None
    question_id = await social.add_question(ctx.conn, ctx.user.id, text, ctx.now)
    done = ctx.t.gettext(
        "Your question was sent to the Centre's staff only. They will answer here."
    )
    step = Step(MenuState.MAIN, {}, [menu_reply(ctx, done)])

    def notice(t: Translator) -> str:
        return t.gettext(
            "✉️ Private question #{id} to the Centre:\n{text}\n\nAnswer with /centreanswer {id}"
            " TEXT", id=question_id, text=text,
        )  # fmt: skip

    step.outgoing = await to_centre_staff(ctx, notice)
    return step


async def to_centre_staff(ctx: Context, say: Callable[[Translator], str]) -> list[Outgoing]:
    """A private message to each of the Centre's staff, in their language; never to a group.
    It carries the resident's words: their erasure deletes it (``about``)."""
    out = []
    for _id, channel, chat, language in await social.users_by_identity(
        ctx.conn, _centre_staff(ctx)
    ):
        if chat.startswith("-"):  # a group's chat: never (the file could name one by mistake)
            continue
        out.append(Outgoing(channel, chat, Reply(say(translator(language))), ctx.user.id))
    return out


async def answer_question(ctx: Context, args: str) -> Step:
    """/centreanswer ID TEXT: the Centre's answer (its staff only)."""
    _ = ctx.t.gettext
    if (ctx.user.channel, ctx.user.external_id) not in _centre_staff(ctx):
        return Step(ctx.state, ctx.draft, [Reply(_("This is for the Centre's staff only."))])
    raw_id, _sep, text = args.strip().partition(" ")
    question_id = parse_id(raw_id)
    question = await social.get_question(ctx.conn, question_id) if question_id else None
    if question is None or not text.strip():
        usage = _("Usage: /centreanswer ID TEXT (the number of a question)")
        return Step(ctx.state, ctx.draft, [Reply(usage)])
    answer = text.strip()[:MAX_TEXT]
    await social.answer_question(ctx.conn, question.id, answer, ctx.user.id, ctx.now)
    step = Step(ctx.state, ctx.draft, [Reply(_("The answer was sent."))])
    resident = await users.load_conversation_by_id(ctx.conn, question.user_id)
    if resident is not None and not resident.user.unreachable:
        t = translator(resident.user.language)
        notice = t.gettext(
            "The Centre for Social Work answered your question:\n{text}", text=answer
        )
        step.outgoing = [Outgoing(resident.user.channel, resident.user.chat_id, Reply(notice))]
    return step


# Anonymous feedback.


def _right_title(ctx: Context, key: str) -> str | None:
    guide = ctx.municipality.social
    right = next((r for r in guide.rights if r.key == key), None) if guide else None
    return right.title.in_language(ctx.t.language) if right else None


def code_hash(code: str) -> str:
    """How a code is kept: its hash (a copy of the database does not give usable codes)."""
    plain = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(b"feedback-code\0" + plain.encode()).hexdigest()


def new_codes(n: int) -> list[str]:
    """``n`` random one-time codes, written ``ABCD-EFGH``."""
    codes = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(n)]
    return [f"{c[:4]}-{c[4:]}" for c in codes]


async def issue_codes(ctx: Context, args: str) -> Step:
    """/centrecodes RIGHT N: N one-time feedback codes to hand out (the Centre's staff only)."""
    _ = ctx.t.gettext
    if (ctx.user.channel, ctx.user.external_id) not in _centre_staff(ctx):
        return Step(ctx.state, ctx.draft, [Reply(_("This is for the Centre's staff only."))])
    key, _sep, raw_n = args.strip().partition(" ")
    title = _right_title(ctx, key)
    n = int(raw_n) if raw_n.strip().isdigit() else 0
    if title is None or not 0 < n <= MAX_CODES:
        usage = _("Usage: /centrecodes RIGHT N (a right's key, 1 to {max} codes)", max=MAX_CODES)
        return Step(ctx.state, ctx.draft, [Reply(usage)])
    codes = new_codes(n)
    await social.add_codes(ctx.conn, key, [code_hash(c) for c in codes], ctx.now)
    head = ctx.t.ngettext(
        "{n} feedback code for {right}; give one to each person who applied for it or used it:",
        "{n} feedback codes for {right}; give one to each person who applied for it or used it:",
        n, right=title,
    )  # fmt: skip
    return Step(ctx.state, ctx.draft, [Reply(head + "\n" + "\n".join(codes))])


async def give_feedback(ctx: Context, press: GiveFeedback) -> Step | None:
    """Ask for the code first (``ask``); then: did you receive it? Yes asks how it went."""
    title = _right_title(ctx, press.key)
    if title is None or press.answer not in ("ask", "yes", "no"):
        return None
    _ = ctx.t.gettext
    if press.answer == "ask":
        text = _(
            "Feedback is taken from people who applied for {right} or used it: write the code"
            " the Centre gave you. (The code names no one; /cancel to stop)",
            right=title,
        )
        return Step(PrivateState.FEEDBACK_CODE, {"right": press.key}, [Reply(text)])
    if not _holds_code(ctx, press.key):
        return None
    if press.answer == "yes":
        keys = [RateIt(press.key, r).button(_(RATING_NAMES[r])) for r in RATINGS]
        return Step(ctx.state, ctx.draft, [Reply(_("How did it go?"), column(keys))])
    return await _store(ctx, press.key, received=False, rating=None)


async def check_code(ctx: Context, event: Text) -> Step | None:
    """An open code of the right: ask whether they received it; else say why not."""
    key = str(ctx.draft.get("right", ""))
    title = _right_title(ctx, key)
    if title is None:
        return None
    _ = ctx.t.gettext
    hashed = code_hash(event.text)
    if not await social.code_is_open(ctx.conn, hashed, key):
        text = _("That is not an unused code for {right}. Write it again, or /cancel.", right=title)
        return Step(ctx.state, ctx.draft, [Reply(text)])
    text = _("Did you receive {right}? Your answer is anonymous.", right=title)
    keys = [GiveFeedback(key, "yes").button(_("Yes")), GiveFeedback(key, "no").button(_("No"))]
    return Step(PrivateState.FEEDBACK, {"right": key, "code": hashed}, [Reply(text, column(keys))])


def _holds_code(ctx: Context, key: str) -> bool:
    """Whether the resident is giving feedback on this right, with a checked code."""
    return (
        ctx.state == PrivateState.FEEDBACK
        and ctx.draft.get("right") == key
        and isinstance(ctx.draft.get("code"), str)
    )


async def rate(ctx: Context, press: RateIt) -> Step | None:
    """Store how it went."""
    if _right_title(ctx, press.key) is None or press.rating not in RATINGS:
        return None
    if not _holds_code(ctx, press.key):
        return None
    return await _store(ctx, press.key, received=True, rating=press.rating)


async def _store(ctx: Context, key: str, *, received: bool, rating: str | None) -> Step:
    _ = ctx.t.gettext
    stored = await social.add_feedback(
        ctx.conn, str(ctx.draft["code"]), key, received=received, rating=rating, now=ctx.now
    )
    text = _("Thank you for your feedback.") if stored else _("That code has been used already.")
    return Step(MenuState.MAIN, {}, [Reply(text, column([main_menu_button(ctx)]))])


def feedback_line(t: Translator, counts: dict[str, int]) -> str | None:
    """The published counts, or None: a group of counts is shown only when none is under 5.

    Showing one count of a group and hiding another would let the hidden one be worked out from
    the total, so a group with any count from 1 to 4 is not shown at all.
    """
    parts = []
    received = {k: counts.get(k, 0) for k in ("received", "not_received")}
    if _publishable(received):
        parts.append(t.gettext("{yes} received it, {no} did not", yes=received["received"],
                               no=received["not_received"]))  # fmt: skip
    ratings = {k: counts.get(k, 0) for k in RATINGS}
    if _publishable(ratings):
        parts.append(t.gettext("good {good}, fair {fair}, bad {bad}", **ratings))
    if not parts:
        return None
    return t.gettext("Residents' feedback: {counts}.", counts="; ".join(parts))


def _publishable(group: dict[str, int]) -> bool:
    values = list(group.values())
    return sum(values) > 0 and all(v == 0 or v >= MIN_PUBLISHED for v in values)


FLOW = Flow(
    name="social-private",
    states=PrivateState,
    steps={
        (PrivateState.ASK, Text): send_question,
        (PrivateState.FEEDBACK_CODE, Text): check_code,
    },
    hints={
        PrivateState.ASK: N_("Please write your question as a text message, or /cancel."),
        PrivateState.FEEDBACK_CODE: N_("Please write the code as a text message, or /cancel."),
        PrivateState.FEEDBACK: N_("Please answer with one of the buttons, or /cancel."),
    },
    anywhere={
        AskCentre: Anywhere(start_question),
        GiveFeedback: Anywhere(give_feedback),
        RateIt: Anywhere(rate),
    },
    commands=(
        CommandSpec("centreanswer", answer_question, leaves=False),
        CommandSpec("centrecodes", issue_codes, leaves=False),
    ),
    typed={PrivateState.ASK: Typed(), PrivateState.FEEDBACK_CODE: Typed()},
    keeps=frozenset({PrivateState.ASK}),
)
