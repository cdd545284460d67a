"""Social protection: the rights and services, who is entitled, the documents, where to apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import aiosqlite

from handlers import engine
from handlers.budget.money import millions
from handlers.context import Context, Step, column
from handlers.events import Outgoing, Reply
from handlers.flow import Anywhere, ButtonData, CommandSpec, Entry, Flow, Job
from handlers.i18n import Translator
from handlers.menu import Menu, MenuState, main_menu_button, menu_reply, nothing_to_cancel
from handlers.municipality import Municipality
from handlers.social_guide import Office, SocialRight
from handlers.social_private import AskCentre, GiveFeedback, feedback_line, to_centre_staff
from handlers.texts import N_
from storage import budget, social, users


class QuizState(StrEnum):
    """The questions of "What could I be entitled to?"."""

    HOUSEHOLD = "social:household"
    AGE = "social:age"
    INCOME = "social:income"
    DISABILITY = "social:disability"
    CHILDREN = "social:children"
    RESULTS = "social:results"  # the list shown; the answers kept until the resident leaves it


# Each question: its text, and each answer's label with the facts it tells of the household.
QUESTIONS: dict[QuizState, tuple[str, tuple[tuple[str, str, tuple[str, ...]], ...]]] = {
    QuizState.HOUSEHOLD: (N_("How many people live in your household?"), (
        ("1", N_("I live alone"), ("alone",)), ("2", "2", ()), ("3", "3–4", ()),
        ("5", N_("5 or more"), ()),
    )),
    QuizState.AGE: (N_("Is anyone in the household 65 or older?"), (
        ("yes", N_("Yes"), ("elderly",)), ("no", N_("No"), ()),
    )),
    QuizState.INCOME: (N_("The household's monthly income per member (approximately)?"), (
        ("low", N_("up to 15,000 dinars"), ("income_low", "income_modest")),
        ("mid", N_("15,000 to 30,000 dinars"), ("income_modest",)),
        ("high", N_("over 30,000 dinars"), ()),
    )),
    QuizState.DISABILITY: (
        N_("Does anyone in the household have a disability or need another person's care?"),
        (("yes", N_("Yes"), ("disability",)), ("no", N_("No"), ())),
    ),
    QuizState.CHILDREN: (N_("Are there children in the household?"), (
        ("no", N_("No"), ()),
        ("baby", N_("Yes, one born in the last 6 months"), ("children", "baby")),
        ("yes", N_("Yes"), ("children",)),
    )),
}  # fmt: skip
ORDER = list(QUESTIONS)
Answers = list[tuple[str, str]]  # (question's state, answer's value), in the order asked


@dataclass(frozen=True, slots=True)
class StartQuiz(ButtonData):
    """What could I be entitled to?"""

    prefix = "socz"


@dataclass(frozen=True, slots=True)
class QuizAnswer(ButtonData):
    """An answer to the current question."""

    prefix = "socq"
    value: str


@dataclass(frozen=True, slots=True)
class ContactMe(ButtonData):
    """Ask the Centre to contact me about my answers (``ask``), then ``yes`` or ``no``."""

    prefix = "socct"
    answer: str


@dataclass(frozen=True, slots=True)
class SocialHome(ButtonData):
    """The list of rights and services."""

    prefix = "socg"


@dataclass(frozen=True, slots=True)
class ShowRight(ButtonData):
    """One right or service of social protection."""

    prefix = "socr"
    key: str


async def show_guide(ctx: Context, press: SocialHome | None = None) -> Step:
    """The rights and services, each a button."""
    del press
    _ = ctx.t.gettext
    guide = ctx.municipality.social
    if guide is None or not guide.rights:
        text = _("Information on social protection is not published here yet.")
        return Step(MenuState.MAIN, {}, [Reply(text, column([main_menu_button(ctx)]))])
    lang = ctx.t.language
    lines = [
        _("Rights and services of social protection. Choose one to see who is entitled, the"
          " documents and where to apply. The Centre for Social Work decides on every request."),
    ]  # fmt: skip
    if guide.example:
        lines.append(_("(Example content, to be checked by the municipality.)"))
    spending = await budget_line(ctx)
    if spending:
        lines.append("\n" + spending)
    choices = [ShowRight(r.key).button(r.title.in_language(lang)) for r in guide.rights]
    if any(r.if_all or r.if_any for r in guide.rights):
        choices.insert(0, StartQuiz().button(_("🧭 What could I be entitled to?")))
    if guide.centre_staff:
        choices.append(AskCentre().button(_("✉️ Ask the Centre (private)")))
    keys = column([*choices, main_menu_button(ctx)])
    return Step(MenuState.MAIN, {}, [Reply("\n".join(lines), keys)])


SOCIAL_PROGRAM = "0901"  # the uniform budget program "Social and child protection"


async def budget_line(ctx: Context) -> str | None:
    """What the latest budget document plans and has spent on program 0901, with its date."""
    version = await budget.latest(ctx.conn)
    if version is None:
        return None
    totals = {x.key: x for x in await budget.program_totals(ctx.conn, version.id)}
    social_total = totals.get(SOCIAL_PROGRAM)
    if social_total is None:
        return None
    return ctx.t.gettext(
        "💰 Social and child protection in the budget for {year} (program 0901): planned {planned},"
        " executed {executed}, as of {date}.",
        year=version.year, planned=millions(ctx.t, social_total.planned),
        executed=millions(ctx.t, social_total.executed), date=ctx.t.date(version.as_of),
    )  # fmt: skip


def right_text(ctx: Context, right: SocialRight, office: Office, feedback: str | None) -> str:
    """A right with who is entitled, the documents and the office's contacts."""
    _ = ctx.t.gettext
    lang = ctx.t.language
    lines = [
        f"🤝 {right.title.in_language(lang)}",
        right.summary.in_language(lang),
        "",
        _("👥 Who is entitled:") + " " + right.who.in_language(lang),
        _("📄 Documents:") + " " + right.documents.in_language(lang),
        _("📍 Where to apply:")
        + f" {office.name.in_language(lang)}, "
        + office.address.in_language(lang),
        f"📞 {office.phone}",
        f"🕒 {office.hours.in_language(lang)}",
    ]
    if office.map_url:
        lines.append(f"🗺 {office.map_url}")
    if right.how is not None:
        lines += ["", right.how.in_language(lang)]
    if right.figures:
        lines += ["", _("📊 Beneficiaries:")]
        lines += [
            _("{period}: {n} (published {date})", period=f.period, n=f.beneficiaries,
              date=ctx.t.date(f.published_on))
            for f in right.figures
        ]  # fmt: skip
    if feedback:
        lines += ["", feedback]
    return "\n".join(lines)


async def show_right(ctx: Context, press: ShowRight) -> Step | None:
    """One right or service."""
    guide = ctx.municipality.social
    right = next((r for r in guide.rights if r.key == press.key), None) if guide else None
    if guide is None or right is None:
        return None
    office = guide.offices[right.office]
    _ = ctx.t.gettext
    feedback = feedback_line(ctx.t, await social.feedback_counts(ctx.conn, right.key))
    text = right_text(ctx, right, office, feedback)
    keys = [
        GiveFeedback(right.key, "ask").button(_("🗳 I used this: how did it go?")),
        SocialHome().button(_("↩️ Social protection")),
        main_menu_button(ctx),
    ]
    return Step(MenuState.MAIN, {}, [Reply(text, column(keys))])


# "What could I be entitled to?": five questions, the answers only in the conversation's draft
# until the list is shown (then dropped: nothing of them is stored).


def ask(ctx: Context) -> list[Reply]:
    """The current question with its answers as buttons."""
    text, answers = QUESTIONS[QuizState(ctx.state)]
    _ = ctx.t.gettext
    keys = column([QuizAnswer(value).button(_(label)) for value, label, _facts in answers])
    number = ORDER.index(QuizState(ctx.state)) + 1
    return [Reply(f"{number}/{len(ORDER)} {_(text)}", keys)]


async def start_quiz(ctx: Context, press: StartQuiz | None = None) -> Step:
    """Ask the first question."""
    del press
    ctx.state, ctx.draft = QuizState.HOUSEHOLD, {"facts": []}
    intro = ctx.t.gettext(
        "A few questions about your household. The answers are not kept: they only choose which"
        " rights and services to show you."
    )
    return Step(ctx.state, ctx.draft, [Reply(intro), *ask(ctx)])


async def answer(ctx: Context, press: QuizAnswer) -> Step | None:
    """Take an answer; ask the next question, or show what may apply."""
    state = QuizState(ctx.state)
    found = next((a for a in QUESTIONS[state][1] if a[0] == press.value), None)
    if found is None:
        return None  # an answer of another question: the hint
    facts = sorted({*ctx.draft.get("facts", []), *found[2]})
    answers = [*ctx.draft.get("answers", []), [str(state), press.value]]
    following = ORDER.index(state) + 1
    ctx.draft = {"facts": facts, "answers": answers}
    if following < len(ORDER):
        ctx.state = ORDER[following]
        return Step(ctx.state, ctx.draft, ask(ctx))
    return results(ctx)


def results(ctx: Context) -> Step:
    """The rights that may apply, with the note that the Centre decides.

    Where the Centre has staff in chat, the resident may ask to be contacted: the answers wait
    in the draft for that (dropped when they leave, or after 30 minutes); else they are dropped.
    """
    _ = ctx.t.gettext
    facts = set(ctx.draft.get("facts", []))
    guide = ctx.municipality.social
    rights = [r for r in guide.rights if r.may_apply(facts)] if guide else []
    lang = ctx.t.language
    if rights:
        lines = [_("These may apply to your household:")]
        lines += [f"• {r.title.in_language(lang)}" for r in rights]
    else:
        lines = [_("From your answers none of the rights listed here seems to apply.")]
    lines.append(
        "\n" + _("The Centre for Social Work decides whether you are entitled, after looking at"
                 " your request and documents; it can also advise you on what else may help."
                 " Your answers were not kept.")
    )  # fmt: skip
    choices = [ShowRight(r.key).button(r.title.in_language(lang)) for r in rights]
    if guide is not None and guide.centre_staff:
        lines.append(_("If you wish, the Centre can contact you about them: only then are your"
                       " answers sent to it and kept."))  # fmt: skip
        choices.append(ContactMe("ask").button(_("📞 Ask the Centre to contact me")))
    keys = column([*choices, SocialHome().button(_("↩️ Social protection")), main_menu_button(ctx)])
    reply = Reply("\n".join(lines), keys)
    if guide is None or not guide.centre_staff:
        return Step(MenuState.MAIN, {}, [reply])
    return Step(QuizState.RESULTS, ctx.draft, [reply])


def answers_text(t: Translator, answers: Answers) -> str:
    """Each question with the resident's answer, one a line."""
    lines = []
    for state, value in answers:
        question, choices = QUESTIONS[QuizState(state)]
        label = next((label for v, label, _facts in choices if v == value), value)
        lines.append(f"• {t.gettext(question)} {t.gettext(label)}")
    return "\n".join(lines)


async def ask_to_be_contacted(ctx: Context, press: ContactMe) -> Step | None:
    """Show what would be sent and ask for consent; send it on yes; drop the answers on no."""
    _ = ctx.t.gettext
    answers = [(str(state), str(value)) for state, value in ctx.draft.get("answers", [])]
    if not answers or press.answer not in ("ask", "yes", "no"):
        return None
    if press.answer == "no":
        text = _("Your answers were dropped; nothing was sent.")
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    if press.answer == "ask":
        text = _(
            "To contact you, the Centre's staff (only they) receive these answers and your name"
            " in the messenger, and answer you here:\n{answers}\n\nThey are kept for the Centre"
            " only, never published; /deleteme erases them. Send them?",
            answers=answers_text(ctx.t, answers),
        )
        keys = [
            ContactMe("yes").button(_("✅ Yes, the Centre may contact me")),
            ContactMe("no").button(_("✖️ No, drop my answers")),
        ]
        return Step(ctx.state, ctx.draft, [Reply(text, column(keys))])
    return await send_contact_request(ctx, answers)


async def send_contact_request(ctx: Context, answers: Answers) -> Step:
    """Store the request with the answers (a private question) and tell the Centre's staff."""
    record = ctx.t.gettext(
        "📞 Please contact me about what I could be entitled to. My answers:\n{answers}",
        answers=answers_text(ctx.t, answers),
    )
    request_id = await social.add_question(ctx.conn, ctx.user.id, record, ctx.now)
    name = ctx.user.first_name or "—"

    def notice(t: Translator) -> str:
        return t.gettext(
            "📞 Request #{id}: {name} asks the Centre to contact them. Their answers:\n{answers}"
            "\n\nAnswer with /centreanswer {id} TEXT",
            id=request_id, name=name, answers=answers_text(t, answers),
        )  # fmt: skip

    done = ctx.t.gettext("Sent to the Centre's staff only. They will contact you here.")
    step = Step(MenuState.MAIN, {}, [menu_reply(ctx, done)])
    step.outgoing = await to_centre_staff(ctx, notice)
    return step


def cancel_quiz(ctx: Context) -> Step:
    """/cancel during the questions: the answers are dropped."""
    if ctx.state not in QuizState._value2member_map_:
        return nothing_to_cancel(ctx)
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])


ABANDONED = timedelta(minutes=30)


async def drop_abandoned_answers(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Drop the answers of a questionnaire left half done: they are not kept past 30 minutes,
    nor when it waits behind a question (/language) to be resumed."""
    del m
    states = [str(s) for s in QuizState]
    for left in await users.waiting_since(conn, states, now - ABANDONED):
        user = left.user
        await users.clear_states_of(conn, user.channel, user.external_id, states, MenuState.MAIN)
    behind = await users.waiting_behind_since(conn, states, engine.RESUME, now - ABANDONED)
    for left in behind:
        await users.reset_conversation(conn, left.user.id, MenuState.MAIN)
    return []


async def _open(ctx: Context) -> Step:
    return await show_guide(ctx)


async def _command(ctx: Context, args: str = "") -> Step:
    del args
    return await show_guide(ctx)


FLOW = Flow(
    name="social",
    states=QuizState,
    steps={
        **{(state, QuizAnswer): answer for state in ORDER},
        (QuizState.RESULTS, ContactMe): ask_to_be_contacted,
    },
    hints={state: N_("Please answer with one of the buttons, or /cancel.") for state in QuizState},
    prompts={
        **{state: ask for state in ORDER},
        QuizState.RESULTS: lambda ctx: results(ctx).replies,
    },
    anywhere={
        SocialHome: Anywhere(show_guide),
        ShowRight: Anywhere(show_right),
        StartQuiz: Anywhere(start_quiz),
    },
    cancel=cancel_quiz,
    commands=(
        CommandSpec(
            "social", _command, help=N_("rights and services of social protection"), listed=True
        ),
    ),
    entries=(Entry(N_("🤝 Social protection"), Menu("social"), _open, order=37),),
    jobs=(Job("social-drop-abandoned-answers", drop_abandoned_answers, seconds=600),),
)
