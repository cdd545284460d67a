"""The budget's audit as staff read it: ``/budget history`` (the newest entries, a button to the
older ones) and a proposal's own history on its card. Dates in the reader's language; the staff's
own words (titles, reasons) as they wrote them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers import engine
from handlers.budget.imports import kind_name
from handlers.budget.money import millions
from handlers.context import Context, Step, column
from handlers.events import Reply
from handlers.flow import ButtonData, Role
from handlers.i18n import Translator
from handlers.texts import N_
from storage import budget_audit
from storage.budget_audit import Action, Entry

PAGE = 10  # entries a screen
MAX_REASON = 300  # of a reason quoted in the history (the whole one is on the proposal)
VERDICT_NAMES = {
    "taken": N_("taken into the draft"),
    "partly": N_("partly taken into the draft"),
    "not": N_("not taken into the draft"),
}


@dataclass(frozen=True, slots=True)
class HistoryPage(ButtonData):
    """The entries older than ``before`` (an entry's id)."""

    prefix = "bah"
    role = Role.ADMIN
    before: int


def day(t: Translator, d: date) -> str:
    """A date as the reader's language writes it (the translator's: 1. 12. 2026., 1 Dec 2026)."""
    return t.date(d)


def moment(t: Translator, at: datetime, zone: ZoneInfo) -> str:
    """A date and time in the reader's language, on the municipality's clock."""
    return t.datetime(at.astimezone(zone))


def _verdict(t: Translator, verdict: object) -> str:
    return t.gettext(VERDICT_NAMES.get(str(verdict), str(verdict)))


def _on(t: Translator, iso_day: object) -> str:
    return day(t, date.fromisoformat(str(iso_day))) if iso_day else "—"


def what(t: Translator, e: Entry) -> str:
    """What an entry's action did, in the reader's language."""
    d = e.detail
    n = e.subject_id if e.subject_id is not None else d.get("id")  # an erased one's, kept
    match e.action:
        case Action.IMPORT_REFUSED:
            return t.ngettext(
                "refused the file {file}: {n} problem", "refused the file {file}: {n} problems",
                int(d.get("problems", 0)), file=d.get("file", ""),
            )  # fmt: skip
        case Action.IMPORT_PREVIEWED | Action.IMPORT_PUBLISHED | Action.IMPORT_DROPPED:
            words = {
                Action.IMPORT_PREVIEWED: N_("previewed version {id}: {kind} for {year}, {date}"),
                Action.IMPORT_PUBLISHED: N_("published version {id}: {kind} for {year}, {date}"),
                Action.IMPORT_DROPPED: N_("dropped version {id}: {kind} for {year}, {date}"),
            }
            return t.gettext(
                words[e.action], id=n, kind=kind_name(t, str(d.get("kind"))),
                year=d.get("year", ""), date=_on(t, d.get("as_of")),
            )  # fmt: skip
        case Action.CONSULTATION_OPENED:
            return t.gettext(
                "opened the consultation on the {year} budget, {starts} – {ends}",
                year=d.get("year", ""), starts=_on(t, d.get("starts")), ends=_on(t, d.get("ends")),
            )  # fmt: skip
        case Action.CONSULTATION_CHANGED:
            return t.gettext(
                "changed the dates of the consultation on the {year} budget: {old_starts} –"
                " {old_ends} → {starts} – {ends}",
                year=d.get("year", ""), old_starts=_on(t, d.get("old_starts")),
                old_ends=_on(t, d.get("old_ends")), starts=_on(t, d.get("starts")),
                ends=_on(t, d.get("ends")),
            )  # fmt: skip
        case Action.CONSULTATION_CLOSED:
            return t.ngettext(
                "closed the consultation on the {year} budget ({n} proposal)",
                "closed the consultation on the {year} budget ({n} proposals)",
                int(d.get("proposals", 0)), year=d.get("year", ""),
            )  # fmt: skip
        case Action.ANSWER_GIVEN:
            return t.gettext(
                "answered proposal #{id}: {verdict}", id=n, verdict=_verdict(t, d.get("verdict"))
            )
        case Action.ANSWER_CHANGED:
            return t.gettext(
                "changed the answer to proposal #{id}: {old} → {new}", id=n,
                old=_verdict(t, d.get("old")), new=_verdict(t, d.get("verdict")),
            )  # fmt: skip
        case Action.ROUND_PREPARED:
            return t.gettext(
                "prepared round #{id} {title}, {total} to share", id=n, title=d.get("title", ""),
                total=millions(t, int(d.get("total", 0))),
            )  # fmt: skip
        case Action.PROJECT_ADDED:
            return t.gettext(
                "put project #{id} {name} ({cost}) on the shortlist of round #{round}", id=n,
                name=d.get("name", ""), cost=millions(t, int(d.get("cost", 0))),
                round=d.get("round", ""),
            )  # fmt: skip
        case Action.ROUND_OPENED:
            return t.gettext("opened voting in round #{id} {title}", id=n, title=d.get("title", ""))
        case Action.PAPER_VOTES:
            return t.ngettext(
                "added {n} paper vote to project #{id} {name}",
                "added {n} paper votes to project #{id} {name}",
                int(d.get("votes", 0)), id=n, name=d.get("name", ""),
            )  # fmt: skip
        case Action.PAPER_CORRECTED:
            return t.gettext(
                "corrected the paper votes of project #{id} {name}: {old} → {new}", id=n,
                name=d.get("name", ""), old=d.get("old", ""), new=d.get("new", ""),
            )  # fmt: skip
        case Action.ROUND_CLOSED:
            return t.gettext(
                "closed voting in round #{id} {title} and published the results", id=n,
                title=d.get("title", ""),
            )  # fmt: skip


def who(t: Translator, e: Entry) -> str:
    """The staff member who acted, or how the bot acted by itself."""
    if e.actor_id is not None:
        return e.actor or t.gettext("staff member #{id}", id=e.actor_id)
    if e.detail.get("by") == "command line":
        return t.gettext("the command line")
    return t.gettext("the bot, by the municipality file")


def line(t: Translator, e: Entry, zone: ZoneInfo) -> str:
    """One entry: when, who, what; a reason under it (the staff's words, as written)."""
    text = f"{moment(t, e.at, zone)} · {who(t, e)}: {what(t, e)}"
    if e.detail.get("erased"):
        text += " " + t.gettext("(erased at its author's request)")
    if e.text:
        text += f"\n   «{e.text[:MAX_REASON]}»"
    return text


async def history(ctx: Context, before: int | None = None) -> Step:
    """/budget history: the newest entries, and a button to the older ones."""
    _ = ctx.t.gettext
    found = await budget_audit.latest(ctx.conn, PAGE + 1, before)
    if not found:
        return engine.stay(ctx, [Reply(_("Nothing has been done in the budget yet."))])
    zone = ZoneInfo(ctx.municipality.timezone)
    shown = found[:PAGE]
    text = "\n".join(
        [_("📜 The budget's history, newest first:"), *(line(ctx.t, e, zone) for e in shown)]
    )
    older = [HistoryPage(shown[-1].id).button(_("⏩ Older"))] if len(found) > PAGE else []
    return engine.stay(ctx, [Reply(text[:3900], column(older))])


async def older(ctx: Context, press: HistoryPage) -> Step:
    """The button under the history: the next entries back."""
    return await history(ctx, press.before)
