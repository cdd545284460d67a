"""Public consultations: residents see, are reminded, attend and comment; admins announce."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from handlers import broadcast, engine, jobs
from handlers.budget import period as budget_period
from handlers.consultation_titles import title_for
from handlers.context import Context, Lookup, Step, buttons, column, parse_id
from handlers.events import Inbound, Outgoing, Photo, Reply, Text
from handlers.flow import (
    Anywhere,
    ButtonData,
    CommandSpec,
    Entry,
    Flow,
    Job,
    PreviewDecision,
    Role,
    Typed,
)
from handlers.i18n import Translator, translator
from handlers.menu import Menu, MenuState, main_menu_button, menu_reply, nothing_to_cancel
from handlers.photos import MAX_PHOTOS, save_photo, unusable_photo
from handlers.texts import N_
from storage import consultations, privacy, subscriptions, users
from storage.consultations import Consultation, NewConsultation

log = logging.getLogger(__name__)


class ConsultState(StrEnum):
    """A resident looking at consultations or commenting; an admin's wizard for a new one."""

    LIST = "consult:list"
    COMMENT = "consult:comment"
    # A comment sent as an album: its later photos join it; anything else is as in the menu.
    ALBUM = "consult:album"
    TITLE = "cwiz:title"
    DESCRIPTION = "cwiz:description"
    STARTS = "cwiz:starts"
    ENDS = "cwiz:ends"
    PLACE = "cwiz:place"
    LINK = "cwiz:link"
    CONFIRM = "cwiz:confirm"


LIST_STATE = ConsultState.LIST
COMMENT_STATE = ConsultState.COMMENT
ALBUM_STATE = ConsultState.ALBUM
WIZARD = (
    ConsultState.TITLE, ConsultState.DESCRIPTION, ConsultState.STARTS, ConsultState.ENDS,
    ConsultState.PLACE, ConsultState.LINK,
)  # fmt: skip
CONFIRM_STATE = ConsultState.CONFIRM
ADMIN_STATES = frozenset({*WIZARD, CONFIRM_STATE})


@dataclass(frozen=True, slots=True)
class ShowConsultation(ButtonData):
    """One consultation's details."""

    prefix = "cons"
    consultation_id: int


@dataclass(frozen=True, slots=True)
class RemindMe(ButtonData):
    """Remind me before it starts."""

    prefix = "cr"
    consultation_id: int


@dataclass(frozen=True, slots=True)
class WillAttend(ButtonData):
    """I will attend."""

    prefix = "ca"
    consultation_id: int


@dataclass(frozen=True, slots=True)
class CommentOnConsultation(ButtonData):
    """Send a comment or proposal."""

    prefix = "cc"
    consultation_id: int


@dataclass(frozen=True, slots=True)
class MyComments(ButtonData):
    """The resident's comments with the answers."""

    prefix = "mycom"


@dataclass(frozen=True, slots=True)
class WizardDecision(PreviewDecision):
    """Announce the consultation (``ok``) or drop it (``cancel``)."""

    prefix = "cwiz"
    role = Role.ADMIN


DATE_FORMAT = "%d.%m.%Y %H:%M"  # what an admin types; residents read the translator's
MAX_TEXT = 2000
TOO_MANY_PHOTOS = N_("A comment has at most {max} photos; this one was not added.")
# A title on a button is cut: the date after it stays in sight, and Viber refuses a button's
# text over 250 characters (a title may have up to MAX_TEXT).
MAX_TITLE_ON_BUTTON = 60


def when(t: Translator, c: Consultation) -> str:
    """The time of a consultation as the reader writes it, on the municipality's clock."""
    return f"{t.datetime(c.starts_at)} - {t.time(c.ends_at)}"


def details(t: Translator, c: Consultation, calendar: str | None = None) -> str:
    """A consultation's title, description, time, place and link (and its calendar file's)."""
    # Written in Cyrillic (the municipality file, a clerk): a reader of another script gets Latin.
    description, place = t.name(c.description), t.name(c.place)
    lines = [f"📣 {title_for(t, c)}", description, f"🕒 {when(t, c)}", f"📍 {place}"]
    if c.link:
        lines.append(f"🔗 {c.link}")
    if calendar:
        lines.append(f"📅 {t.gettext('Add to calendar')}: {calendar}")
    if c.minutes:
        lines.append(t.gettext("Summary of the meeting:") + f"\n{c.minutes}")
    return "\n".join(lines)


def calendar_url(ctx: Context, c: Consultation) -> str | None:
    """The consultation's calendar file on the bot's web server (bot/web/calendar.py)."""
    base = ctx.deps.public_url.rstrip("/")
    return f"{base}/consultations/{c.id}.ics" if base else None


def _short(title: str) -> str:
    if len(title) <= MAX_TITLE_ON_BUTTON:
        return title
    return title[: MAX_TITLE_ON_BUTTON - 1].rstrip() + "…"


async def list_current(ctx: Context) -> Step:
    """Open and upcoming consultations."""
    _ = ctx.t.gettext
    found = await consultations.current(ctx.conn, ctx.now)
    choices = [
        ShowConsultation(c.id).button(
            f"{_short(title_for(ctx.t, c))} ({ctx.t.day_month(c.starts_at)})"
        )
        for c in found
    ]
    choices += [MyComments().button(_("🗒 My comments")), main_menu_button(ctx)]
    text = (
        _("Public consultations:")
        if found
        else _("There are no open or upcoming consultations now.")
    )
    return Step(LIST_STATE, {}, [Reply(text, column(choices))])


async def show(ctx: Context, press: ShowConsultation) -> Step | None:
    """One consultation with what a resident can do."""
    c = await consultations.get(ctx.conn, press.consultation_id)
    if c is None:
        return None
    if c.budget_year is not None:
        return await _budget_period(ctx, c)
    _ = ctx.t.gettext
    actions = [
        RemindMe(c.id).button(_("⏰ Remind me")),
        WillAttend(c.id).button(_("✋ I will attend")),
        CommentOnConsultation(c.id).button(_("💬 Send a comment or proposal")),
        main_menu_button(ctx),
    ]
    return Step(
        LIST_STATE,
        {},
        [
            Reply(
                details(ctx.t, c, calendar_url(ctx, c)),
                column(actions),
            )
        ],
    )


async def _budget_period(ctx: Context, c: Consultation) -> Step:
    """A budget consultation is a period for proposals, not a meeting: its own buttons (an old
    keyboard's "Remind me" or "I will attend" lands here too)."""
    return Step(LIST_STATE, {}, [await budget_period.listing(ctx, c)])


async def _consultation(ctx: Context, raw_id: str) -> Consultation | None:
    found = parse_id(raw_id)
    return await consultations.get(ctx.conn, found) if found is not None else None


async def take_part(ctx: Context, press: RemindMe | WillAttend) -> Step | None:
    """ "Remind me" or "I will attend"."""
    kind = "cr" if isinstance(press, RemindMe) else "ca"
    c = await consultations.get(ctx.conn, press.consultation_id)
    if c is None:
        return None
    if c.budget_year is not None:
        return await _budget_period(ctx, c)
    _ = ctx.t.gettext
    if c.starts_at <= ctx.now:
        return Step(LIST_STATE, {}, [Reply(_("This meeting has already started."))])
    await consultations.participate(
        ctx.conn, c.id, ctx.user.id, remind=kind == "cr", attend=kind == "ca"
    )
    if kind == "cr":
        text = _("We will remind you before {title} starts.", title=title_for(ctx.t, c))
    else:
        text = _("Thank you! We noted that you will attend {title}.", title=title_for(ctx.t, c))
    return Step(LIST_STATE, {}, [Reply(text)])


async def start_comment(ctx: Context, press: CommentOnConsultation) -> Step | None:
    """Ask for the comment or proposal (then back to the menu)."""
    c = await consultations.get(ctx.conn, press.consultation_id)
    if c is None:
        return None
    if c.budget_year is not None:
        return await _budget_period(ctx, c)
    text = ctx.t.gettext(
        "Write your comment or proposal on {title}. You may send a photo first. (/cancel to stop)",
        title=title_for(ctx.t, c),
    )
    ctx.state, ctx.draft = MenuState.MAIN, {}
    return engine.interrupt(ctx, COMMENT_STATE, [Reply(text)], consultation_id=c.id)


async def add_comment(ctx: Context, event: Inbound) -> Step | None:
    """Store the comment (photos wait for the text, a photo's caption is it); the admins see it."""
    c = await _commented(ctx, ctx.draft.get("consultation_id"))
    if c is None:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx)])
    if isinstance(event, Photo):
        return await add_photo(ctx, c, event)
    if not isinstance(event, Text) or not event.text.strip():
        return None
    return await store_comment(ctx, c, event.text, waiting_photos(ctx.draft))


async def _commented(ctx: Context, raw_id: object) -> Consultation | None:
    return await consultations.get(ctx.conn, raw_id) if isinstance(raw_id, int) else None


def waiting_photos(draft: dict[str, Any]) -> list[str]:
    """The photos waiting for the comment's text (a draft saved before albums kept one)."""
    photos = draft.get("photos")
    if isinstance(photos, list):
        return [str(p) for p in photos]
    return [str(draft["photo"])] if draft.get("photo") else []


async def add_photo(ctx: Context, c: Consultation, event: Photo) -> Step:
    """Keep a photo for the comment; with a caption, the caption is the comment and it is sent.

    An album's photos arrive one by one, as one sending: "write your comment" is said once.
    """
    _ = ctx.t.gettext
    known = waiting_photos(ctx.draft)
    lookup = ctx.lookup or Lookup("invalid")
    refusal = None
    if lookup.outcome != "saved":
        refusal = Reply(unusable_photo(ctx.t, lookup))
    elif len(known) >= MAX_PHOTOS:
        refusal = Reply(_(TOO_MANY_PHOTOS, max=MAX_PHOTOS))
        await privacy.discard_unused_photos(ctx.conn, [str(lookup.data["path"])])
    photos = known if refusal else [*known, str(lookup.data["path"])]
    if event.caption.strip():  # the caption is the comment, with the photos before it
        step = await store_comment(ctx, c, event.caption, photos, album=event.album)
        return engine.prepend(refusal, step) if refusal else step
    if refusal:
        return engine.stay(ctx, [refusal])
    later = bool(event.album) and ctx.draft.get("album") == event.album
    added = (
        _("Photo {n} of {max} added.", n=len(photos), max=MAX_PHOTOS)
        if later
        else _("Photo added. Now write your comment.")
    )
    draft = {k: v for k, v in ctx.draft.items() if k != "photo"}
    return Step(ctx.state, {**draft, "photos": photos, "album": event.album}, [Reply(added)])


async def store_comment(
    ctx: Context, c: Consultation, words: str, photos: list[str], album: str = ""
) -> Step:
    """Store the comment with its photos and send it to the admins; an album's later photos
    join it (ALBUM_STATE)."""
    _ = ctx.t.gettext
    text = words.strip()[:MAX_TEXT]
    comment_id = await consultations.add_comment(ctx.conn, c.id, ctx.user.id, text, photos, ctx.now)
    thanks = menu_reply(ctx, _("Thank you! Your comment was sent to the municipality."))
    step = Step(MenuState.MAIN, {}, [thanks])
    if album:
        joined = {"comment_id": comment_id, "album": album, "photos": len(photos)}
        step = Step(ALBUM_STATE, joined, [thanks])
    step.outgoing = await to_admins(ctx, lambda t: Reply(t.gettext(
        "💬 Comment #{id} on {title}:\n{text}\n\nAnswer with /answer {id} TEXT",
        id=comment_id, title=title_for(t, c), text=text), photos=tuple(photos)))  # fmt: skip
    return step


async def add_album_photo(ctx: Context, event: Photo) -> Step:
    """Add a later photo of the album that a comment came in (up to MAX_PHOTOS).

    Another photo, or one of another album, is taken as in the main menu (a new report).
    """
    raw_id = ctx.draft.get("comment_id")
    comment = await consultations.get_comment(ctx.conn, raw_id) if isinstance(raw_id, int) else None
    c = await _commented(ctx, comment.consultation_id if comment else None)
    if comment is None or c is None or event.album != ctx.draft.get("album"):
        ctx.state, ctx.draft = ctx.registry.home, {}
        return await engine.begin(ctx, event) or engine.explain(ctx)
    lookup = ctx.lookup or Lookup("invalid")
    count = int(ctx.draft.get("photos", 1))
    if lookup.outcome != "saved":
        return engine.stay(ctx, [Reply(unusable_photo(ctx.t, lookup))])
    path = str(lookup.data["path"])
    if count >= MAX_PHOTOS:
        await privacy.discard_unused_photos(ctx.conn, [path])
        return engine.stay(ctx, [Reply(ctx.t.gettext(TOO_MANY_PHOTOS, max=MAX_PHOTOS))])
    await consultations.add_comment_photo(ctx.conn, comment.id, path)
    step = Step(ALBUM_STATE, {**ctx.draft, "photos": count + 1}, [])
    step.outgoing = await to_admins(ctx, lambda t: Reply(t.gettext(
        "📷 Another photo of comment #{id} on {title}", id=comment.id, title=title_for(t, c)),
        photos=(path,)))  # fmt: skip
    return step


async def to_admins(ctx: Context, render: broadcast.Render) -> list[Outgoing]:
    """A message to every admin who has written to the bot, in their language."""
    admins = await users.admins(ctx.conn)
    return [Outgoing(a.channel, a.chat_id, render(translator(a.language))) for a in admins]


async def my_comments(ctx: Context, press: MyComments | None = None) -> Step:
    """The resident's comments with the municipality's answers."""
    del press
    _ = ctx.t.gettext
    mine = await consultations.comments_of(ctx.conn, ctx.user.id)
    entries = [with_answer(ctx.t, f"#{c.id} {c.text}", c.answer) for c in mine]
    return mine_step(ctx, entries, _("You have not sent any comments yet."))


def with_answer(t: Translator, entry: str, answer: str | None) -> str:
    """A resident's comment or proposal with the municipality's answer under it."""
    return f"{entry}\n  ↪ {answer or t.gettext('(no answer yet)')}"


def mine_step(ctx: Context, entries: list[str], none_yet: str) -> Step:
    """A resident's own entries with their answers (or ``none_yet``), then the menu."""
    if not entries:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, none_yet)])
    return Step(MenuState.MAIN, {}, [Reply("\n\n".join(entries)), menu_reply(ctx)])


async def answer(ctx: Context, args: str) -> Step:
    """/answer ID TEXT: the municipality's answer to a comment (staff)."""
    _ = ctx.t.gettext
    raw_id, _sep, text = args.partition(" ")
    comment_id = parse_id(raw_id)
    comment = (
        await consultations.get_comment(ctx.conn, comment_id) if comment_id is not None else None
    )
    if comment is None or not text.strip():
        return Step(
            ctx.state, ctx.draft, [Reply(_("Usage: /answer ID TEXT (the number of a comment)"))]
        )
    c = await consultations.get(ctx.conn, comment.consultation_id)
    if c is not None and c.budget_year is not None:
        # A budget proposal's answer is a verdict with its reason, audited: its own buttons.
        text = _("#{id} is a budget proposal: answer it with the buttons of /budget proposals.",
                 id=comment.id)  # fmt: skip
        return Step(ctx.state, ctx.draft, [Reply(text)])
    await consultations.answer_comment(ctx.conn, comment.id, text.strip(), ctx.user.id, ctx.now)
    resident = await users.load_conversation_by_id(ctx.conn, comment.user_id)
    step = Step(ctx.state, ctx.draft, [Reply(_("The answer was sent."))])
    if resident is not None and c is not None:
        t = translator(resident.user.language)
        notice = t.gettext(
            "The municipality answered your comment on {title}:\n{text}",
            title=title_for(t, c),
            text=text.strip(),
        )
        step.outgoing = [Outgoing(resident.user.channel, resident.user.chat_id, Reply(notice))]
    return step


async def minutes(ctx: Context, args: str) -> Step:
    """/minutes ID TEXT: the summary after the meeting, to all who asked for reminders or attend."""
    _ = ctx.t.gettext
    raw_id, _sep, text = args.partition(" ")
    c = await _consultation(ctx, raw_id)
    if c is None or not text.strip():
        return Step(
            ctx.state,
            ctx.draft,
            [Reply(_("Usage: /minutes ID TEXT (the number of a consultation)"))],
        )
    await consultations.set_minutes(ctx.conn, c.id, text.strip(), ctx.now)
    recipients = await consultations.participants(ctx.conn, c.id)
    progress = await broadcast.start(ctx, "minutes", text.strip(), recipients, lambda t: Reply(
        t.gettext("Summary of {title}:", title=title_for(t, c)) + f"\n{text.strip()}"))  # fmt: skip
    return Step(ctx.state, ctx.draft, [progress])


# The admin's wizard: /consult new.


def ask_wizard(ctx: Context, state: str) -> list[Reply]:
    """The question of one step of the wizard."""
    _ = ctx.t.gettext
    questions = {
        ConsultState.TITLE: _("Title of the consultation?"),
        ConsultState.DESCRIPTION: _("A short description?"),
        ConsultState.STARTS: _("When does it start? (for example 17.05.2027 18:00)"),
        ConsultState.ENDS: _("When does it end? (for example 17.05.2027 20:00)"),
        ConsultState.PLACE: _("Where is it held?"),
        ConsultState.LINK: _("Link to the documents? (or - for none)"),
    }
    return [Reply(questions[ConsultState(state)])]


def start_wizard(ctx: Context) -> Step:
    """/consult new."""
    return Step(WIZARD[0], {}, ask_wizard(ctx, WIZARD[0]))


async def wizard_step(ctx: Context, event: Text) -> Step:
    """Take one answer of the wizard and ask the next question, or show the preview."""
    _ = ctx.t.gettext
    field = ctx.state.removeprefix("cwiz:")
    value = event.text.strip()[:MAX_TEXT]
    if field in ("starts", "ends"):
        moment = parse_moment(value, ctx.municipality.timezone)
        if (
            moment is None
            or moment <= ctx.now
            or (field == "ends" and moment.isoformat() <= ctx.draft["starts"])
        ):
            return Step(
                ctx.state,
                ctx.draft,
                [Reply(_("Please write a future date and time as 17.05.2027 18:00."))],
            )
        value = moment.isoformat()
    if not value:
        return Step(ctx.state, ctx.draft, ask_wizard(ctx, ctx.state))
    draft = {**ctx.draft, field: None if field == "link" and value == "-" else value}
    following = WIZARD.index(ctx.state) + 1
    if following < len(WIZARD):
        return Step(WIZARD[following], draft, ask_wizard(ctx, WIZARD[following]))
    ctx.draft = draft
    return await preview(ctx)


def parse_moment(text: str, timezone: str) -> datetime | None:
    """Read "17.05.2027 18:00" in the municipality's time zone."""
    try:
        return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=ZoneInfo(timezone))
    except ValueError:
        return None


def draft_consultation(ctx: Context) -> Consultation:
    """The consultation the wizard describes (not stored yet)."""
    d = ctx.draft
    return Consultation(
        0, d["title"], d["description"], datetime.fromisoformat(d["starts"]),
        datetime.fromisoformat(d["ends"]), d["place"], d.get("link"), None, None,
    )  # fmt: skip


async def preview(ctx: Context) -> Step:
    """The text and the number of recipients, to confirm."""
    _ = ctx.t.gettext
    count = await broadcast.count(ctx, "consultations")
    text = details(ctx.t, draft_consultation(ctx))
    question = ctx.t.ngettext(
        "Announce this to {n} subscriber?", "Announce this to {n} subscribers?", count
    )
    keys = buttons(
        [
            WizardDecision.under("ok", ctx.draft).button(_("✅ Announce")),
            WizardDecision.under("cancel", ctx.draft).button(_("✖️ Cancel")),
        ]
    )
    return Step(CONFIRM_STATE, ctx.draft, [Reply(f"{text}\n\n{question}", keys)])


async def confirm(ctx: Context, press: WizardDecision) -> Step | None:
    """Store and announce the consultation, or drop it."""
    _ = ctx.t.gettext
    if press.action == "cancel":
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("Cancelled."))])
    if press.action != "ok" or "title" not in ctx.draft:
        return None
    c = draft_consultation(ctx)
    consultation_id = ctx.draft.get("id")
    if consultation_id is None:  # a new one from the wizard; one from the file is stored
        new = NewConsultation(c.title, c.description, c.starts_at, c.ends_at, c.place, c.link)
        consultation_id = await consultations.create(ctx.conn, new, ctx.user.id, ctx.now)
    stored = await consultations.get(ctx.conn, consultation_id)
    assert stored is not None  # noqa: S101 - it was just stored
    return await announce(ctx, stored)


async def announce(ctx: Context, c: Consultation) -> Step:
    """Send the announcement to the subscribers of public consultations."""
    await consultations.mark_announced(ctx.conn, c.id, ctx.now)
    recipients = await subscriptions.reachable_subscribers(ctx.conn, "consultations")

    def render(t: Translator) -> Reply:
        return Reply(
            details(t, c, calendar_url(ctx, c)),
            buttons([ShowConsultation(c.id).button(t.gettext("More"))]),
        )

    progress = await broadcast.start(ctx, "consultations", c.title, recipients, render)
    return Step(MenuState.MAIN, {}, [progress])


async def consult_command(ctx: Context, args: str) -> Step:
    """/consult new | /consult announce ID (admins)."""
    _ = ctx.t.gettext
    action, _sep, rest = args.partition(" ")
    if action == "new":
        return start_wizard(ctx)
    c = await _consultation(ctx, rest.strip())
    if action == "announce" and c is not None:
        ctx.draft = {
            "title": c.title, "description": c.description, "starts": c.starts_at.isoformat(),
            "ends": c.ends_at.isoformat(), "place": c.place, "link": c.link, "id": c.id,
        }  # fmt: skip
        return await preview(ctx)
    usage = _("Usage: /consult new, or /consult announce ID")
    return Step(ctx.state, ctx.draft, [Reply(usage)])


def cancel_wizard(ctx: Context) -> Step:
    """/cancel in the admin's wizard: nothing is stored."""
    if ctx.state not in ADMIN_STATES:
        return nothing_to_cancel(ctx)
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])


async def _list(ctx: Context, args: str = "") -> Step:
    del args
    return await list_current(ctx)


FLOW = Flow(
    name="consultations",
    states=ConsultState,
    steps={
        (COMMENT_STATE, Text): add_comment,
        (COMMENT_STATE, Photo): add_comment,
        (ALBUM_STATE, Photo): add_album_photo,
        **{(state, Text): wizard_step for state in WIZARD},
        (CONFIRM_STATE, WizardDecision): confirm,
    },
    hints={
        LIST_STATE: N_("Please choose a consultation, or go back to the menu."),
        COMMENT_STATE: N_("Please write your comment as a text message, or /cancel."),
        CONFIRM_STATE: N_("Please announce or cancel with the buttons."),
        **{
            state: N_("Please answer the question as a text message, or /cancel.")
            for state in WIZARD
        },
    },
    prompts={
        LIST_STATE: lambda ctx: [menu_reply(ctx)],
        **{state: lambda ctx: ask_wizard(ctx, ctx.state) for state in WIZARD},
    },
    typed={
        COMMENT_STATE: Typed(),
        **{state: Typed(skip=state is ConsultState.LINK) for state in WIZARD},
    },
    anywhere={
        ShowConsultation: Anywhere(show),
        RemindMe: Anywhere(take_part),
        WillAttend: Anywhere(take_part),
        CommentOnConsultation: Anywhere(start_comment),
        MyComments: Anywhere(my_comments),
    },
    commands=(
        CommandSpec("consultations", _list, help=N_("public consultations"), listed=True),
        CommandSpec(
            "consult",
            consult_command,
            role=Role.ADMIN,
            help=N_("a new consultation, or announce one"),
            leaves=lambda args: args.partition(" ")[0] in ("new", "announce"),
        ),
        CommandSpec(
            "answer", answer, role=Role.ADMIN, help=N_("answer a resident's comment"), leaves=False
        ),
        CommandSpec(
            "minutes",
            minutes,
            role=Role.ADMIN,
            help=N_("the summary of a meeting to its participants"),
            leaves=False,
        ),
    ),
    entries=(Entry(N_("🗣 Public consultations"), Menu("consult"), list_current, order=30),),
    look_ups={(COMMENT_STATE, Photo): save_photo, (ALBUM_STATE, Photo): save_photo},
    jobs=(Job("consultation-reminders", jobs.send_reminders, seconds=60),),
    keeps=frozenset({COMMENT_STATE}),
    cancel=cancel_wizard,
    state_roles={state: Role.ADMIN for state in ADMIN_STATES},
)
