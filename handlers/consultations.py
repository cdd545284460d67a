"""Public consultations: residents see, are reminded, attend and comment; admins announce."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers import broadcast
from handlers.context import Context, Step, buttons, column, parse_id
from handlers.events import ButtonChoice, Inbound, Outgoing, Photo, Reply, Text
from handlers.i18n import Translator, translator
from handlers.menu import MENU_STATE, menu_reply
from storage import consultations, subscriptions, users
from storage.consultations import Consultation, NewConsultation

log = logging.getLogger(__name__)

LIST_STATE = "consult"
COMMENT_STATE = "ccomment:"
WIZARD = ("cwiz:title", "cwiz:description", "cwiz:starts", "cwiz:ends", "cwiz:place", "cwiz:link")
CONFIRM_STATE = "cwiz:confirm"
DATE_FORMAT = "%d.%m.%Y %H:%M"
MAX_TEXT = 2000


def when(c: Consultation, zone: ZoneInfo) -> str:
    """The time of a consultation, in the municipality's time zone."""
    start = c.starts_at.astimezone(zone).strftime(DATE_FORMAT)
    return f"{start} - {c.ends_at.astimezone(zone).strftime('%H:%M')}"


def details(t: Translator, c: Consultation, zone: ZoneInfo) -> str:
    """A consultation's title, description, time, place and link."""
    lines = [f"📣 {c.title}", c.description, f"🕒 {when(c, zone)}", f"📍 {c.place}"]
    if c.link:
        lines.append(f"🔗 {c.link}")
    if c.minutes:
        lines.append(t.gettext("Summary of the meeting:") + f"\n{c.minutes}")
    return "\n".join(lines)


async def list_current(ctx: Context) -> Step:
    """Open and upcoming consultations."""
    _ = ctx.t.gettext
    found = await consultations.current(ctx.conn, ctx.now)
    zone = ZoneInfo(ctx.municipality.timezone)
    pairs = [
        (f"{c.title} ({c.starts_at.astimezone(zone).strftime('%d.%m.')})", f"cons:{c.id}")
        for c in found
    ]
    pairs += [(_("🗒 My comments"), "mycom"), (_("↩️ Main menu"), "menu:main")]
    text = (
        _("Public consultations:")
        if found
        else _("There are no open or upcoming consultations now.")
    )
    return Step(LIST_STATE, {}, [Reply(text, column(pairs))])


async def show(ctx: Context, event: ButtonChoice) -> Step | None:
    """One consultation with what a resident can do."""
    c = await _consultation(ctx, event.data.removeprefix("cons:"))
    if c is None:
        return None
    _ = ctx.t.gettext
    actions = [
        (_("⏰ Remind me"), f"cr:{c.id}"),
        (_("✋ I will attend"), f"ca:{c.id}"),
        (_("💬 Send a comment or proposal"), f"cc:{c.id}"),
        (_("↩️ Main menu"), "menu:main"),
    ]
    return Step(
        LIST_STATE,
        {},
        [Reply(details(ctx.t, c, ZoneInfo(ctx.municipality.timezone)), column(actions))],
    )


async def _consultation(ctx: Context, raw_id: str) -> Consultation | None:
    found = parse_id(raw_id)
    return await consultations.get(ctx.conn, found) if found is not None else None


async def take_part(ctx: Context, event: ButtonChoice) -> Step | None:
    """ "Remind me" or "I will attend"."""
    kind, _sep, raw_id = event.data.partition(":")
    c = await _consultation(ctx, raw_id)
    if c is None or kind not in ("cr", "ca"):
        return None
    _ = ctx.t.gettext
    if c.starts_at <= ctx.now:
        return Step(LIST_STATE, {}, [Reply(_("This meeting has already started."))])
    await consultations.participate(
        ctx.conn, c.id, ctx.user.id, remind=kind == "cr", attend=kind == "ca"
    )
    if kind == "cr":
        text = _("We will remind you before {title} starts.", title=c.title)
    else:
        text = _("Thank you! We noted that you will attend {title}.", title=c.title)
    return Step(LIST_STATE, {}, [Reply(text)])


async def start_comment(ctx: Context, event: ButtonChoice) -> Step | None:
    """Ask for the comment or proposal."""
    c = await _consultation(ctx, event.data.removeprefix("cc:"))
    if c is None:
        return None
    text = ctx.t.gettext(
        "Write your comment or proposal on {title}. You may send a photo first. (/cancel to stop)",
        title=c.title,
    )
    return Step(
        f"{COMMENT_STATE}{c.id}", {"_resume": {"state": MENU_STATE, "draft": {}}}, [Reply(text)]
    )


async def add_comment(ctx: Context, event: Inbound) -> Step | None:
    """Store the comment (a photo waits for the text); the admins see it."""
    c = await _consultation(ctx, ctx.state.removeprefix(COMMENT_STATE))
    if c is None:
        return Step(MENU_STATE, {}, [menu_reply(ctx)])
    _ = ctx.t.gettext
    if isinstance(event, Photo) and ctx.lookup and ctx.lookup.outcome == "saved":
        draft = {**ctx.draft, "photo": ctx.lookup.data["path"]}
        return Step(ctx.state, draft, [Reply(_("Photo added. Now write your comment."))])
    if not isinstance(event, Text) or not event.text.strip():
        return None
    text = event.text.strip()[:MAX_TEXT]
    photo = ctx.draft.get("photo")
    comment_id = await consultations.add_comment(ctx.conn, c.id, ctx.user.id, text, photo, ctx.now)
    step = Step(
        MENU_STATE,
        {},
        [menu_reply(ctx, _("Thank you! Your comment was sent to the municipality."))],
    )
    step.outgoing = await to_admins(ctx, lambda t: Reply(t.gettext(
        "💬 Comment #{id} on {title}:\n{text}\n\nAnswer with /answer {id} TEXT",
        id=comment_id, title=c.title, text=text), photos=(photo,) if photo else ()))  # fmt: skip
    return step


async def to_admins(ctx: Context, render: broadcast.Render) -> list[Outgoing]:
    """A message to every admin who has written to the bot, in their language."""
    admins = await users.admins(ctx.conn)
    return [Outgoing(a.channel, a.chat_id, render(translator(a.language))) for a in admins]


async def my_comments(ctx: Context) -> Step:
    """The resident's comments with the municipality's answers."""
    _ = ctx.t.gettext
    mine = await consultations.comments_of(ctx.conn, ctx.user.id)
    if not mine:
        return Step(MENU_STATE, {}, [menu_reply(ctx, _("You have not sent any comments yet."))])
    lines = []
    for c in mine:
        answer = c.answer or _("(no answer yet)")
        lines.append(f"#{c.id} {c.text}\n  ↪ {answer}")
    return Step(MENU_STATE, {}, [Reply("\n\n".join(lines)), menu_reply(ctx)])


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
    await consultations.answer_comment(ctx.conn, comment.id, text.strip(), ctx.user.id, ctx.now)
    c = await consultations.get(ctx.conn, comment.consultation_id)
    resident = await users.load_conversation_by_id(ctx.conn, comment.user_id)
    step = Step(ctx.state, ctx.draft, [Reply(_("The answer was sent."))])
    if resident is not None and c is not None:
        t = translator(resident.user.language)
        notice = t.gettext(
            "The municipality answered your comment on {title}:\n{text}",
            title=c.title,
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
        t.gettext("Summary of {title}:", title=c.title) + f"\n{text.strip()}"))  # fmt: skip
    return Step(ctx.state, ctx.draft, [progress])


# The admin's wizard: /consult new.


def ask_wizard(ctx: Context, state: str) -> list[Reply]:
    """The question of one step of the wizard."""
    _ = ctx.t.gettext
    questions = {
        "cwiz:title": _("Title of the consultation?"),
        "cwiz:description": _("A short description?"),
        "cwiz:starts": _("When does it start? (for example 17.05.2027 18:00)"),
        "cwiz:ends": _("When does it end? (for example 17.05.2027 20:00)"),
        "cwiz:place": _("Where is it held?"),
        "cwiz:link": _("Link to the documents? (or - for none)"),
    }
    return [Reply(questions[state])]


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
    text = details(ctx.t, draft_consultation(ctx), ZoneInfo(ctx.municipality.timezone))
    question = ctx.t.ngettext(
        "Announce this to {n} subscriber?", "Announce this to {n} subscribers?", count
    )
    keys = buttons([(_("✅ Announce"), "cwiz:ok"), (_("✖️ Cancel"), "cwiz:cancel")])
    return Step(CONFIRM_STATE, ctx.draft, [Reply(f"{text}\n\n{question}", keys)])


async def confirm(ctx: Context, event: ButtonChoice) -> Step | None:
    """Store and announce the consultation, or drop it."""
    _ = ctx.t.gettext
    if event.data == "cwiz:cancel":
        return Step(MENU_STATE, {}, [menu_reply(ctx, _("Cancelled."))])
    if event.data != "cwiz:ok":
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
    zone = ZoneInfo(ctx.municipality.timezone)

    def render(t: Translator) -> Reply:
        return Reply(details(t, c, zone), buttons([(t.gettext("More"), f"cons:{c.id}")]))

    progress = await broadcast.start(ctx, "consultations", c.title, recipients, render)
    return Step(MENU_STATE, {}, [progress])


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
