"""The resident's data under the resident's control (Law on Personal Data Protection).

``/privacy`` says what is stored, why, for how long, who sees it and who the controller is;
``/mydata`` sends everything stored about the resident as two files, a text to read in their
language and the same as JSON (storage/exports.py keeps them private and briefly); ``/deleteme``
erases it after a confirmation. Staff keep a report's photos as evidence with ``/evidence REF``.
Three jobs: the retention (reports ended more than N months ago lose their personal data), the
last step of an erasure (the goodbye message, once sent, and the emptied user row are deleted),
and the deletion of data exports once sent.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from handlers import engine
from handlers.budget.audit import VERDICT_NAMES
from handlers.budget.money import dinars
from handlers.budget.programs import program_name
from handlers.consultation_titles import title_of
from handlers.context import Context, Step, buttons
from handlers.events import Document, Outgoing, Reply
from handlers.flow import ButtonData, CommandSpec, Flow, Job, Role
from handlers.i18n import LANGUAGES
from handlers.library.titles import LANGUAGE_NAMES, SUBJECTS
from handlers.memories import forget_erased
from handlers.municipality import Municipality
from handlers.notices import card_update
from handlers.texts import N_, category_name, status_name, topic_name
from storage import exports, photos, privacy, reports, voices

log = logging.getLogger(__name__)

EXPORT_NAME = "moja-opstina"  # the data export's file names: moja-opstina-<day>.txt and .json
# Messengers that fetch a file by its URL, maybe after taking the message: their exports are
# kept until they expire.
FETCHED_LATER = ("viber",)
UNUSED_VOICE_KEPT = timedelta(days=1)  # longer than a step takes from saving to commit
# Photos are many: each is looked at by the sweep for a week after it was saved (28 runs).
UNUSED_PHOTO_LOOKED_AT = timedelta(days=8)
BACKUP_DAYS = 14  # deploy/moja-opstina-backup.service removes older backups


# What /privacy says is stored, one phrase per section of the /mydata export (a test checks that
# both name the same sections, in this order).
STORED: dict[str, str] = {
    "user": N_(
        "your first name, your id and chat on the messenger, the language you chose and where"
        " you are in a conversation with the bot"
    ),
    "reports": N_(
        "your reports (description, photos without their metadata, voice notes, place, and the"
        " contact you gave through another app)"
    ),
    "report_messages": N_("your comments and answers on reports"),
    "reports_followed": N_("the reports you follow as the same problem as yours"),
    "report_starts": N_("when you started reports (to limit how many an hour)"),
    "subscriptions": N_("the topics you follow"),
    "consultations_joined": N_("the public consultations you join, reminders and attendance"),
    "consultation_reminders": N_("the reminders sent to you"),
    "consultation_comments": N_("your comments on consultations and your budget proposals"),
    "ballots": N_("your participatory budget ballots"),
    "plan_follows": N_("the action plan measures you follow"),
    "plan_and_social_questions": N_(
        "your questions on the action plan and your private questions to the Centre for Social Work"
    ),
    "social_feedback_given": N_(
        "the rights you gave feedback on (the feedback itself is kept without your name)"
    ),
    "library_follows": N_("the library's subjects, authors and languages you follow"),
    "library_alerts": N_("how often you want the library's news"),
    "library_suggestions": N_("the books you suggest to the library"),
    "library_supported": N_("the suggested books you want too"),
}

# Why the sections kept for another purpose than reports and announcements are kept, and on what
# legal basis (a test checks that /privacy says each).
WHY: dict[str, str] = {
    "consultation_comments": N_(
        "Why your comments on consultations and your budget proposals: for the municipality to"
        " weigh them and answer you (a task in the public interest: the participation of citizens"
        " in public consultations and in the budget)."
    ),
    "ballots": N_(
        "Why your participatory budget ballots: to count one ballot per resident and publish the"
        " results without names (a task in the public interest: the participatory budget)."
    ),
    "plan_and_social_questions": N_(
        "Why your questions on the action plan and to the Centre for Social Work: for the staff"
        " responsible to answer you, in private (a task in the public interest of the"
        " municipality and of the Centre)."
    ),
}

# How a library follower is told (the library's own button labels).
LIBRARY_MODES = {"weekly": N_("Weekly digest"), "instant": N_("As they arrive")}
LIBRARY_FOLLOWS = {
    "subject": N_("Subject you follow: {name}"),
    "language": N_("Language of books you follow: {name}"),
    "author": N_("Author you follow: {name}"),
}
SUGGESTION_STATUSES = {
    "open": N_("suggested"),
    "ordered": N_("ordered"),
    "available": N_("in the library"),
    "not_planned": N_("not planned"),
}


class PrivacyState(StrEnum):
    """The one question of this feature: erase everything?"""

    CONFIRM = "privacy:confirm"


@dataclass(frozen=True, slots=True)
class EraseAnswer(ButtonData):
    """The answer to "erase your data?": ``yes`` or ``no``."""

    prefix = "erase"
    answer: str


async def show_privacy(ctx: Context, args: str = "") -> Step:
    """Say what is stored, why, for how long, who sees it, and who the controller is."""
    del args
    return engine.stay(ctx, [Reply(privacy_notice(ctx))])


def privacy_notice(ctx: Context) -> str:
    """The privacy notice in the resident's language."""
    _ = ctx.t.gettext
    p = ctx.municipality.privacy
    months = p.retention_months if p else 24
    parts = [
        _("🔒 Your personal data"),
        _("What is stored: {items}.", items="; ".join(_(STORED[section]) for section in STORED)),
        _(
            "Why: to handle your reports and tell you how they go (a task in the public interest"
            " of the municipality), and to send you the announcements you asked for (your"
            " consent, which you can withdraw with /subscribe at any time)."
        ),
        "\n".join(_(why) for why in WHY.values()),
        ctx.t.ngettext(
            "For how long: while you use the bot. {n} month after a report is closed its"
            " personal data is erased and the report stays only anonymised, for the statistics."
            " Backups are kept for {days} days.",
            "For how long: while you use the bot. {n} months after a report is closed its"
            " personal data is erased and the report stays only anonymised, for the statistics."
            " Backups are kept for {days} days.",
            months,
            days=BACKUP_DAYS,
        ),
        _(
            "The same time after the answer, your questions on the action plan and to the Centre"
            " for Social Work are deleted (unanswered ones that long after you asked them), and"
            " so are your comments and proposals that long after their consultation ended, and"
            " the reasons you gave for a suggested book that long after the library answered."
        ),
        _(
            "Who sees it: the staff of the municipal service responsible for your report (your"
            " name only if you did not hide it), and nobody else. Reports sent by e-mail stay in"
            " the service's mailbox."
        ),
        _(
            "Your rights: /mydata sends you everything stored about you, /deleteme erases it."
            " You may also complain to the Commissioner for Information of Public Importance and"
            " Personal Data Protection (www.poverenik.rs)."
        ),
    ]
    if p is None:
        parts.append(_("Controller: the municipality ({name}).", name=_name(ctx)))
    else:
        contact = ", ".join(x for x in (ctx.t.name(p.address), p.email, p.phone) if x)
        parts.append(
            _("Controller: {controller}, {contact}", controller=ctx.t.name(p.controller),
              contact=contact)
        )  # fmt: skip
    return "\n\n".join(parts)


def _name(ctx: Context) -> str:
    return ctx.municipality.name_in(ctx.t.language)


async def send_my_data(ctx: Context, args: str = "") -> Step:
    """Send everything stored about the resident as two files: a text to read, and JSON."""
    del args
    _ = ctx.t.gettext
    folder = await privacy.database_folder(ctx.conn)
    if folder is None:  # an in-memory database (a try-out) has no data folder to write in
        return engine.stay(ctx, [Reply(_("Your data cannot be exported here."))])
    data = await privacy.personal_data(ctx.conn, ctx.user.id)
    day = _local(ctx, ctx.now).date().isoformat()
    names = {"text": f"{EXPORT_NAME}-{day}.txt", "json": f"{EXPORT_NAME}-{day}.json"}
    contents = {
        names["text"]: readable_data(ctx, data).encode(),
        names["json"]: json.dumps(data, ensure_ascii=False, indent=1).encode(),
    }
    # Written in the private export folder (0600), inside the transaction: if it rolls back,
    # no message names the files and the export job deletes them.
    paths = await asyncio.to_thread(exports.write_exports, folder, contents, ctx.now)
    minutes = int(exports.KEPT.total_seconds() // 60)
    intro = ctx.t.ngettext(
        "Everything stored about you is in the two files that follow: one to read and one as"
        " JSON (for other programs). They are deleted from our server once sent, at the latest"
        " in {n} minute; if they do not arrive, send /mydata again.",
        "Everything stored about you is in the two files that follow: one to read and one as"
        " JSON (for other programs). They are deleted from our server once sent, at the latest"
        " in {n} minutes; if they do not arrive, send /mydata again.",
        minutes,
    )
    replies = [
        Reply(intro),
        Reply(_("📄 Your data, to read"), document=Document(names["text"], paths[names["text"]])),
        Reply(_("📄 Your data as JSON"), document=Document(names["json"], paths[names["json"]])),
    ]
    return engine.stay(ctx, replies)


def readable_data(ctx: Context, data: dict[str, Any]) -> str:
    """The export as text a person reads, in their language and script."""
    _ = ctx.t.gettext
    u = data["user"]
    lines = [
        _("Everything {municipality} stores about you, on {day}", municipality=_name(ctx),
          day=ctx.t.date(ctx.now)),
        "",
        _("Name: {name}", name=u["first_name"] or "-"),
        _("Messenger: {messenger}, id {id}", messenger=u["messenger"], id=u["id"]),
        _("Language: {language}", language=LANGUAGES.get(u["language"], u["language"] or "-")),
        _("With us since: {at}", at=_day(ctx, u["since"])),
        _("Topics you follow: {topics}",
          topics=", ".join(topic_name(ctx.t, s["topic"]) for s in data["subscriptions"]) or "-"),
        _("Reports you follow (the same problem as yours): {refs}",
          refs=", ".join(f["ref"] for f in data["reports_followed"]) or "-"),
        _("Reports you started (times, to limit how many an hour): {n}",
          n=len(data["report_starts"])),
    ]  # fmt: skip
    lines += _reports_lines(ctx, data)
    lines += _section(_("Your comments and answers on reports"), [
        f"{e['ref']} {_moment(ctx, e['at'])}: {e['text'] or _voice_or_photo(e)}"
        for e in data["report_messages"]
    ])  # fmt: skip
    lines += _participation_lines(ctx, data)
    lines += _section(_("Library"), [
        *(_library_follow(ctx, f) for f in data["library_follows"]),
        *(_("Alerts: {mode}", mode=_(LIBRARY_MODES.get(a["mode"], a["mode"])))
          for a in data["library_alerts"]),
        *(_("Your suggestion: {title} ({author}), {status}", title=g["title"],
            author=g["author"], status=_(SUGGESTION_STATUSES.get(g["status"], g["status"])))
          for g in data["library_suggestions"]),
        *(_("You want too: {title} ({author})", title=g["title"], author=g["author"])
          for g in data["library_supported"]),
    ])  # fmt: skip
    return "\n".join(lines) + "\n"


def _reports_lines(ctx: Context, data: dict[str, Any]) -> list[str]:
    _ = ctx.t.gettext
    lines: list[str] = []
    for r in data["reports"]:
        lines += [
            "",
            " · ".join(
                (r["ref"], category_name(ctx.t, r["category"]), status_name(ctx.t, r["status"]))
            ),
            _("Description: {description}", description=r["description"]),
            _("Place: {place}", place=r["address"] or _coordinates(r)),
            _("Photos: {files}", files=", ".join(r["photos"]) or "-"),
        ]
        if r["voice"]:
            lines.append(_("Voice note: {file}", file=r["voice"]))
    return lines


def _consultation(ctx: Context, c: dict[str, Any]) -> str:
    """A consultation's title for the reader: a budget consultation's is the bot's own words
    for its year, in the reader's language; any other's is stored as staff wrote it (in one
    language), shown in the reader's script."""
    year = c.get("budget_year")
    return title_of(ctx.t, str(c["consultation"] or ""), int(year) if year else None)


def _participation_lines(ctx: Context, data: dict[str, Any]) -> list[str]:
    _ = ctx.t.gettext
    comments = [
        f"{_consultation(ctx, c)} {_moment(ctx, c['at'])}: {c['text']}"
        + (f" ({program_name(ctx.t, c['program'])}{_cost(ctx, c['cost'])})" if c["program"] else "")
        + "".join(
            f"\n   {_moment(ctx, a['at'])}: {_(VERDICT_NAMES.get(a['verdict'], a['verdict']))}"
            f"{': ' + a['reason'] if a['reason'] else ''}"
            for a in c["answers"]
        )
        for c in data["consultation_comments"]
    ]
    return [
        *_section(_("Consultations you joined"), [
            _consultation(ctx, c) for c in data["consultations_joined"]
        ]),
        *_section(_("Your comments and budget proposals"), comments),
        *_section(_("Your participatory budget ballots"), [
            f"{b['round']}: {b['project']}" for b in data["ballots"]
        ]),
        *_section(_("Action plan measures you follow"), [
            f"{f['key']} {f['title']}" for f in data["plan_follows"]
        ]),
        *_section(_("Your questions (action plan, social protection)"), [
            f"{_moment(ctx, w['at'])}{' ' + w['about'] if w['about'] else ''}: {w['text']}"
            for w in data["plan_and_social_questions"]
        ]),
    ]  # fmt: skip


def _local(ctx: Context, moment: datetime) -> datetime:
    """A moment on the municipality's clock (the stored ones are UTC)."""
    return moment.astimezone(ZoneInfo(ctx.municipality.timezone))


def _moment(ctx: Context, stored: str) -> str:
    return ctx.t.datetime(datetime.fromisoformat(stored))


def _day(ctx: Context, stored: str) -> str:
    return ctx.t.date(datetime.fromisoformat(stored))


def _library_follow(ctx: Context, f: dict[str, Any]) -> str:
    """A library follow as the library's menu names it (subjects and languages are codes)."""
    _ = ctx.t.gettext
    names = {"subject": SUBJECTS, "language": LANGUAGE_NAMES}.get(f["kind"], {})
    value = _(names[f["value"]]) if f["value"] in names else f["value"]
    return _(LIBRARY_FOLLOWS.get(f["kind"], "{name}"), name=value)


def _cost(ctx: Context, cost: int | None) -> str:
    if cost is None:
        return ""
    return ", " + ctx.t.gettext("Estimated cost: {amount} dinars", amount=dinars(ctx.t, cost))


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", title, *lines] if lines else []


def _voice_or_photo(event: dict[str, Any]) -> str:
    return str(event["voice"] or event["photo"] or "-")


async def delete_sent_exports(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Delete the data exports that are sent (or expired); their messages keep only the name."""
    del m
    folder = await privacy.database_folder(conn)
    if folder is not None:
        needed = await privacy.export_paths_in_use(conn, now - exports.KEPT, FETCHED_LATER)
        await asyncio.to_thread(exports.delete_unneeded, folder, needed, now)
    return []


def _coordinates(r: dict[str, Any]) -> str:
    if r["latitude"] is None:
        return "-"
    return f"{r['latitude']:.5f}, {r['longitude']:.5f}"


async def ask_to_erase(ctx: Context, args: str = "") -> Step:
    """Ask for a confirmation before erasing (staff accounts are the admins' to remove)."""
    del args
    _ = ctx.t.gettext
    if ctx.user.is_staff:
        text = _("Staff accounts are removed by an admin (/staff remove); nothing was changed.")
        return engine.stay(ctx, [Reply(text)])
    return Step(PrivacyState.CONFIRM, {}, confirm_prompt(ctx))


def confirm_prompt(ctx: Context) -> list[Reply]:
    """The question: erase everything?"""
    _ = ctx.t.gettext
    text = _(
        "Erase your personal data? Your name, your ids, this chat, your subscriptions, your"
        " comments and your photos are deleted; your reports stay without your name and"
        " description, for the statistics. This cannot be undone."
    )
    keys = buttons(
        [EraseAnswer("yes").button(_("🗑 Yes, erase everything"))],
        [EraseAnswer("no").button(_("↩️ No, keep it"))],
    )
    return [Reply(text, keys)]


async def answer_erase(ctx: Context, press: EraseAnswer) -> Step | None:
    """Erase on yes (and say what was kept and why); back to the menu on no."""
    _ = ctx.t.gettext
    if press.answer == "no":
        return engine.leave_for_menu(ctx, _("Nothing was erased."))
    if press.answer != "yes":
        return None
    done = await privacy.erase_user(ctx.conn, ctx.user.id, ctx.now)
    await privacy.delete_photo_files(ctx.conn, done.photos)
    ctx.erased = True  # the dispatcher empties the caches of replies after the commit
    step = Step(ctx.registry.home, {}, [Reply(erased_text(ctx, done))])
    for report_id in done.ids:  # the staff chats' cards lose the name and the description too
        report = await reports.get_report(ctx.conn, report_id)
        if report is not None:
            step.outgoing += await card_update(ctx, report)
    return step


def erased_text(ctx: Context, done: privacy.Erasure) -> str:
    """What was erased, what was kept, and why."""
    t = ctx.t
    lines = [t.gettext("Your personal data is erased.")]
    if done.reports:
        lines.append(t.ngettext(
            "{n} report stays, without your name, description and address, for the"
            " municipality's statistics (category, place, status and dates).",
            "{n} reports stay, without your name, description and address, for the"
            " municipality's statistics (category, place, status and dates).",
            done.reports,
        ))  # fmt: skip
    if done.evidence:
        lines.append(t.ngettext(
            "The photos of {n} report are kept, because the municipal staff marked them as"
            " evidence.",
            "The photos of {n} reports are kept, because the municipal staff marked them as"
            " evidence.",
            done.evidence,
        ))  # fmt: skip
    lines.append(t.gettext("If you write to the bot again, you start as a new user."))
    return "\n\n".join(lines)


async def mark_evidence(ctx: Context, args: str) -> Step:
    """/evidence REF: keep the report's photos when its resident's data is erased."""
    _ = ctx.t.gettext
    report = await reports.find_by_ref(ctx.conn, args.strip().upper()[:32])
    if report is None or not ctx.user.may_act_for(report.service):
        return engine.stay(ctx, [Reply(_("Usage: /evidence REF (a report of your service)."))])
    await privacy.mark_evidence(ctx.conn, report.id, ctx.user.id, ctx.now)
    text = _("The photos of {ref} are kept as evidence.", ref=report.ref)
    return engine.stay(ctx, [Reply(text)])


async def retain(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """Erase the personal data of reports that ended more than the retention ago, and delete
    the questions answered, the consultations' comments and the library's reasons as long ago."""
    months = m.privacy.retention_months if m.privacy else 24
    cutoff = months_before(now, months)
    due = await privacy.ended_before(conn, cutoff)
    done = await privacy.anonymise_reports(conn, due, now)
    parts = await privacy.drop_followers_ended_before(conn, cutoff, now)
    # What else residents wrote, once answered or over: questions, comments and reasons.
    await privacy.drop_questions_before(conn, cutoff)
    commented = await privacy.drop_consultation_comments_before(conn, cutoff)
    await privacy.drop_reasons_answered_before(conn, cutoff)
    let_go = await privacy.unused_photos(conn, [*done.photos, *parts, *commented])
    await privacy.delete_photo_files(conn, let_go)
    # Once a day: the caches of replies may quote any of it (a card, a notice of a question).
    forget_erased()
    return []


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months earlier (the month's last day when shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


async def sweep_voice(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """Delete the voice notes saved over a day ago that nothing names: a voice note is saved
    before the step's transaction, which may refuse it (a report start over the hourly limit)."""
    del m
    folder = await privacy.database_folder(conn)
    if folder is not None:
        old = await asyncio.to_thread(voices.saved_before, folder, now - UNUSED_VOICE_KEPT)
        await privacy.delete_photo_files(conn, await privacy.unused_photos(conn, old))
    return []


async def sweep_photos(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Delete the photos saved a day to a week ago that nothing names: a photo is saved before
    the step's transaction, and a report cancelled or a start refused drops it."""
    del m
    folder = await privacy.database_folder(conn)
    if folder is not None:
        since, before = now - UNUSED_PHOTO_LOOKED_AT, now - UNUSED_VOICE_KEPT
        recent = await asyncio.to_thread(photos.saved_between, folder, since, before)
        await privacy.delete_photo_files(conn, await privacy.unused_photos(conn, recent))
    return []


async def finish_erasures(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Delete the goodbye messages once sent, and the emptied users they were sent to."""
    del m
    stuck = await privacy.finish_erasures(conn, now)
    if stuck:  # internal ids of emptied rows: nothing personal is left in them
        log.error(
            "erased user rows %s are still referred to and stay; the others were deleted", stuck
        )
    return []


FLOW = Flow(
    name="privacy",
    states=PrivacyState,
    steps={(PrivacyState.CONFIRM, EraseAnswer): answer_erase},
    hints={PrivacyState.CONFIRM: N_("Please answer with the buttons: erase your data or not.")},
    prompts={PrivacyState.CONFIRM: confirm_prompt},
    commands=(
        CommandSpec(
            "privacy",
            show_privacy,
            help=N_("what we store about you, and why"),
            listed=True,
            leaves=False,
        ),
        CommandSpec("mydata", send_my_data, help=N_("everything stored about you"), leaves=False),
        CommandSpec("deleteme", ask_to_erase, help=N_("erase your personal data")),
        CommandSpec(
            "evidence",
            mark_evidence,
            role=Role.OPERATOR,
            help=N_("REF - keep a report's photos as evidence"),
            leaves=False,
        ),
    ),
    jobs=(
        Job("privacy-retention", retain, seconds=24 * 3600),
        Job("privacy-erasures", finish_erasures, seconds=600),
        Job("privacy-exports", delete_sent_exports, seconds=60),
        Job("privacy-unused-voice", sweep_voice, seconds=6 * 3600),
        Job("privacy-unused-photos", sweep_photos, seconds=6 * 3600),
    ),
)
