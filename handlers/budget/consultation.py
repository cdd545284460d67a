"""Helping draft the budget: a budget consultation (a public consultation of its own period) in
which residents send proposals per program; staff answer each one and publish the counts when it
closes. The period and the proposals are stored with the consultations (storage/consultations.py),
so the consultations list, the calendar and the privacy export and erasure see them too."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite

from handlers import broadcast, engine
from handlers.budget import audit, period
from handlers.budget.audit import VERDICT_NAMES
from handlers.budget.followers import TOPIC, tell, with_followers
from handlers.budget.importer import parse_amount
from handlers.budget.money import dinars
from handlers.budget.period import MyProposals, Propose, period_words, propose_button
from handlers.budget.programs import PROGRAMS, program_name
from handlers.budget.staff import BudgetState
from handlers.consultations import mine_step, to_admins, with_answer
from handlers.context import Context, Step, column, parse_id
from handlers.events import Button, Inbound, Location, Outgoing, Photo, Reply, Text
from handlers.flow import ButtonData, Role
from handlers.i18n import Translator, translator
from handlers.menu import MenuState, menu_reply
from handlers.municipality import Municipality
from handlers.report import distance_km
from handlers.texts import N_
from storage import budget_audit, budget_consultation, subscriptions, users
from storage.budget_audit import Action, Entry, Subject
from storage.budget_consultation import VERDICTS, NewProposal, Period, Proposal
from storage.consultations import NewConsultation

log = logging.getLogger(__name__)

MAX_TEXT = 2000
_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\.?")


@dataclass(frozen=True, slots=True)
class ProposalProgram(ButtonData):
    """The program area a proposal belongs to."""

    prefix = "bpp"
    program: str


@dataclass(frozen=True, slots=True)
class ProposalNext(ButtonData):
    """Skip the cost (``skip``), or send the proposal without more (``send``)."""

    prefix = "bpn"
    action: str


@dataclass(frozen=True, slots=True)
class Verdict(ButtonData):
    """A staff answer to a proposal: taken, partly or not (the reason is asked next)."""

    prefix = "bpv"
    role = Role.ADMIN
    proposal_id: int
    verdict: str


@dataclass(frozen=True, slots=True)
class ChangeAnswer(ButtonData):
    """Staff change an answer given (the card of an answered proposal); the reason is asked next."""

    prefix = "bpc"
    role = Role.ADMIN
    proposal_id: int
    verdict: str
    shown: str  # the answer on the card: a colleague may have changed it since


async def overview_part(ctx: Context) -> tuple[list[str], list[Button]]:
    """What the budget overview adds: an open consultation, and the resident's proposals."""
    _ = ctx.t.gettext
    p = await budget_consultation.unclosed(ctx.conn)
    lines: list[str] = []
    choices: list[Button] = []
    if p is not None and p.is_open(ctx.now):
        lines.append(period_words(ctx.t, p, ZoneInfo(ctx.municipality.timezone)))
        choices.append(propose_button(ctx.t, p))
    if await budget_consultation.proposals_of(ctx.conn, ctx.user.id, limit=1):
        choices.append(MyProposals().button(_("🗒 My proposals")))
    return lines, choices


# The resident's proposal: the program, what and where, the cost, a photo or a place.


async def start(ctx: Context, press: Propose) -> Step | None:
    """Ask which program area the proposal belongs to."""
    p = await budget_consultation.get(ctx.conn, press.consultation_id)
    if p is None:
        return None
    if not p.is_open(ctx.now):
        text = ctx.t.gettext("The consultation on the budget is not open now.")
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    return Step(BudgetState.PROGRAM, {"consultation_id": p.id}, program_prompt(ctx))


def program_prompt(ctx: Context) -> list[Reply]:
    """The 17 programs as buttons."""
    choices = [ProposalProgram(code).button(program_name(ctx.t, code)) for code in PROGRAMS]
    text = ctx.t.gettext("Which area does your proposal belong to? (/cancel to stop)")
    return [Reply(text, column(choices))]


async def choose_program(ctx: Context, press: ProposalProgram) -> Step | None:
    """Keep the program; ask what should be done and where."""
    if press.program not in PROGRAMS:
        return None
    return Step(BudgetState.WHAT, {**ctx.draft, "program": press.program}, what_prompt(ctx))


def what_prompt(ctx: Context) -> list[Reply]:
    """Ask for the proposal itself."""
    return [Reply(ctx.t.gettext("What should be done, and where? Write it in a message."))]


async def write_what(ctx: Context, event: Text) -> Step | None:
    """Keep the text; ask for the estimated cost."""
    text = event.text.strip()[:MAX_TEXT]
    if not text:
        return None
    return Step(BudgetState.COST, {**ctx.draft, "text": text}, cost_prompt(ctx))


def cost_prompt(ctx: Context) -> list[Reply]:
    """Ask for the cost, which may be skipped."""
    skip = ProposalNext("skip").button(ctx.t.gettext("⏭ I do not know"))
    text = ctx.t.gettext("About how much would it cost, in dinars? (for example 1.500.000)")
    return [Reply(text, column([skip]))]


def parse_cost(text: str) -> int | None:
    """An estimated cost in para from "1.500.000", "1 500 000" or "1500000,00", or None."""
    cleaned = text.strip().removesuffix("din").removesuffix("дин").strip().rstrip(".")
    for mark in (",", "."):
        try:
            value = parse_amount(cleaned, mark)
        except ValueError:
            continue
        if value > 0:
            return int(value * 100)
    return None


async def write_cost(ctx: Context, event: Text | ProposalNext) -> Step | None:
    """Keep the cost (or none); ask for a photo or the place."""
    if isinstance(event, ProposalNext):
        if event.action != "skip":
            return None
        cost = None
    else:
        cost = parse_cost(event.text)
        if cost is None:
            return None
    return Step(BudgetState.EXTRA, {**ctx.draft, "cost": cost}, extra_prompt(ctx))


def extra_prompt(ctx: Context) -> list[Reply]:
    """Offer a photo and a location before sending."""
    text = ctx.t.gettext(
        "You may add a photo and the location of the place (📎 → Location), then send it."
    )
    return [with_send(ctx, text)]


def with_send(ctx: Context, text: str) -> Reply:
    """``text`` with the Send button: on Viber a message without it hides the button."""
    return Reply(text, column([ProposalNext("send").button(ctx.t.gettext("📨 Send the proposal"))]))


async def add_extra(ctx: Context, event: Inbound) -> Step | None:
    """Keep a photo or a location; the proposal waits for Send."""
    _ = ctx.t.gettext
    if isinstance(event, Photo):
        if ctx.lookup is None or ctx.lookup.outcome != "saved":
            unused = _("That photo could not be used. Try another one.")
            return engine.stay(ctx, [with_send(ctx, unused)])
        draft = {**ctx.draft, "photo": ctx.lookup.data["path"]}
        return Step(BudgetState.EXTRA, draft, [with_send(ctx, _("Photo added."))])
    if isinstance(event, Location):
        problem = check_place(ctx, event.latitude, event.longitude)
        if problem is not None:
            return engine.stay(ctx, [with_send(ctx, problem)])
        draft = {**ctx.draft, "latitude": event.latitude, "longitude": event.longitude}
        return Step(BudgetState.EXTRA, draft, [with_send(ctx, _("Location added."))])
    return None


def check_place(ctx: Context, latitude: float, longitude: float) -> str | None:
    """Why a proposal's place cannot be taken (a report's check, a proposal's words), or None."""
    _ = ctx.t.gettext
    m = ctx.municipality
    km = distance_km(m, latitude, longitude)
    if km is None:
        return _("That location is not valid. Please share the place of your proposal again.")
    if km <= m.radius_km:
        return None
    return _(
        "That place is {distance} km from {name}, outside the municipality; a proposal is for a"
        " place within {radius} km. Please share the place of your proposal.",
        distance=f"{km:.1f}", name=m.name_in(ctx.t.language), radius=f"{m.radius_km:g}",
    )  # fmt: skip


async def send(ctx: Context, press: ProposalNext) -> Step | None:
    """Store the proposal (while the consultation is open); the admins see it."""
    if press.action != "send":
        return None
    _ = ctx.t.gettext
    d = ctx.draft
    p = await budget_consultation.get(ctx.conn, int(d.get("consultation_id", 0)))
    if p is None or not p.is_open(ctx.now):
        text = _("The consultation on the budget has closed; the proposal was not sent.")
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    new = NewProposal(
        str(d["program"]), str(d["text"]), d.get("cost"), d.get("photo"),
        d.get("latitude"), d.get("longitude"),
    )  # fmt: skip
    proposal_id = await budget_consultation.add_proposal(ctx.conn, p.id, ctx.user.id, new, ctx.now)
    log.info("proposal %s for the budget of %s stored", proposal_id, p.year)
    text = _("Thank you! Your proposal #{id} was sent to the municipality.", id=proposal_id)
    step = Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    stored = await budget_consultation.get_proposal(ctx.conn, proposal_id)
    assert stored is not None  # noqa: S101 - it was just stored
    step.outgoing = await to_admins(ctx, lambda t: staff_card(t, stored))
    return step


def describe(t: Translator, p: Proposal) -> str:
    """A proposal as its author and staff read it."""
    lines = [f"#{p.id} {program_name(t, p.program)}", p.text]
    if p.cost is not None:
        lines.append(t.gettext("Estimated cost: {amount} dinars", amount=dinars(t, p.cost)))
    if p.latitude is not None and p.longitude is not None:
        lines.append(f"📍 {p.latitude:.5f}, {p.longitude:.5f}")
    return "\n".join(lines)


def staff_card(
    t: Translator, p: Proposal, history: list[Entry] | None = None, zone: ZoneInfo | None = None
) -> Reply:
    """A proposal with its answer buttons (to change an answer given), and its history."""
    choices = [
        (Verdict(p.id, v) if p.verdict is None else ChangeAnswer(p.id, v, p.verdict)).button(
            t.gettext(VERDICT_NAMES[v]).capitalize()
        )
        for v in VERDICTS
        if v != p.verdict
    ]
    lines = [t.gettext("📝 A proposal for the budget:"), describe(t, p)]
    if p.verdict:
        lines.append(t.gettext("Answer: {verdict}", verdict=t.gettext(VERDICT_NAMES[p.verdict])))
        lines.append(p.answer or "")
    if history and zone is not None:
        lines += ["", t.gettext("History:"), *(audit.line(t, e, zone) for e in history)]
    return Reply("\n".join(lines)[:3900], column(choices), photos=(p.photo,) if p.photo else ())


async def my_proposals(ctx: Context, press: MyProposals) -> Step:
    """The resident's proposals with the municipality's answers."""
    del press
    _ = ctx.t.gettext
    entries = [
        with_answer(
            ctx.t,
            describe(ctx.t, p),
            f"{_(VERDICT_NAMES[p.verdict]).capitalize()}: {p.answer}" if p.verdict else None,
        )
        for p in await budget_consultation.proposals_of(ctx.conn, ctx.user.id)
    ]
    return mine_step(ctx, entries, _("You have not sent any proposals yet."))


# Staff: /budget consult YEAR FROM TO, /budget proposals, the answers, /budget consult close.


def parse_day(text: str, zone: ZoneInfo) -> datetime | None:
    """The start of a day written 01.10.2026, in the municipality's time zone."""
    found = _DAY.fullmatch(text)
    if found is None:
        return None
    day, month, year = (int(x) for x in found.groups())
    try:
        return datetime(year, month, day, tzinfo=zone)
    except ValueError:
        return None


async def consult(ctx: Context, args: list[str]) -> Step:
    """/budget consult YEAR FROM TO: open the consultation (or change the dates of the one not
    closed, for the same year); /budget consult close: close it."""
    _ = ctx.t.gettext
    if args == ["close"]:
        return await close(ctx)
    zone = ZoneInfo(ctx.municipality.timezone)
    year = parse_id(args[0]) if len(args) == 3 else None  # YEAR FROM TO
    starts, last = (parse_day(a, zone) for a in args[1:3]) if year else (None, None)
    if year is None or starts is None or last is None:
        usage = _(
            "Usage: /budget consult 2027 01.10.2026 31.10.2026 (for the open one: its new dates),"
            " or /budget consult close"
        )
        return engine.stay(ctx, [Reply(_with_file_period(ctx, usage))])
    ends = last.replace(hour=23, minute=59)
    if ends <= max(starts, ctx.now) or not ctx.now.year - 1 <= year <= ctx.now.year + 2:
        text = _("The period must end in the future, after it starts, for a budget year near now.")
        return engine.stay(ctx, [Reply(text)])
    current = await budget_consultation.unclosed(ctx.conn)
    if current is not None and current.year == year:
        return await _change_dates(ctx, current, starts, ends)
    if current is not None:
        text = _("A consultation on the budget is already open; close it first.")
        return engine.stay(ctx, [Reply(_with_file_period(ctx, text))])
    p = await _store(ctx.conn, ctx.municipality, year, starts, ends, ctx.user.id, ctx.now)
    log.info("admin %s opened budget consultation %s", ctx.user.id, p.id)
    done = Reply(_with_file_period(ctx, opened_words(ctx.t, p, zone)))
    audience = await _opening_audience(ctx.conn)
    return Step(MenuState.MAIN, {}, await tell(ctx, audience, _announcement(p, zone), done))


async def _change_dates(ctx: Context, p: Period, starts: datetime, ends: datetime) -> Step:
    """New dates for the consultation not closed yet: once it has started its first day stays
    (the residents' proposals were sent in it); audited with the dates before and after."""
    _ = ctx.t.gettext
    zone = ZoneInfo(ctx.municipality.timezone)
    started = p.starts_at <= ctx.now
    if started and starts.date() != p.starts_at.astimezone(zone).date():
        text = _(
            "The consultation on the {year} budget opened on {date}; only its last day can"
            " change now.",
            year=p.year, date=ctx.t.date(p.starts_at.astimezone(zone)),
        )  # fmt: skip
        return engine.stay(ctx, [Reply(text)])
    starts = p.starts_at if started else starts
    if (starts, ends) == (p.starts_at, p.ends_at):
        return engine.stay(ctx, [Reply(_period_words(ctx.t, p.year, starts, ends, zone))])
    await budget_consultation.change_dates(ctx.conn, p.id, starts, ends)

    def day(at: datetime) -> str:
        return at.astimezone(zone).date().isoformat()

    detail = {
        "year": p.year, "starts": day(starts), "ends": day(ends),
        "old_starts": day(p.starts_at), "old_ends": day(p.ends_at),
    }  # fmt: skip
    await budget_audit.record(ctx.conn, ctx.user.id, Action.CONSULTATION_CHANGED,
                              Subject.CONSULTATION, p.id, ctx.now, detail)  # fmt: skip
    log.info("admin %s changed the dates of budget consultation %s", ctx.user.id, p.id)
    return engine.stay(ctx, [Reply(_period_words(ctx.t, p.year, starts, ends, zone))])


def _period_words(
    t: Translator, year: int, starts: datetime, ends: datetime, zone: ZoneInfo
) -> str:
    """When the consultation runs, in the reader's words."""
    return t.gettext(
        "The consultation on the {year} budget runs from {starts} to {ends}.",
        year=year, starts=t.date(starts.astimezone(zone)), ends=t.date(ends.astimezone(zone)),
    )  # fmt: skip


def _with_file_period(ctx: Context, text: str) -> str:
    """``text``, and the municipality file's period while it has not ended."""
    period = ctx.municipality.budget.consultation if ctx.municipality.budget else None
    zone = ZoneInfo(ctx.municipality.timezone)
    if period is None or period.ends_at(zone) <= ctx.now:
        return text
    note = ctx.t.gettext(
        "The municipality file sets the consultation on the {year} budget from {starts} to"
        " {ends}; the bot opens and closes it by itself.",
        year=period.year, starts=ctx.t.date(period.starts_on),
        ends=ctx.t.date(period.ends_on),
    )  # fmt: skip
    return f"{text}\n{note}"


def opened_words(t: Translator, p: Period, zone: ZoneInfo) -> str:
    """What the admins read when a consultation opens."""
    return t.gettext(
        "The consultation on the {year} budget is open until {date}.",
        year=p.year, date=t.date(p.ends_at.astimezone(zone)),
    )  # fmt: skip


def _title(m: Municipality, year: int) -> str:
    return period.title(translator(m.staff_language), year)


async def _store(
    conn: aiosqlite.Connection, m: Municipality, year: int, starts: datetime, ends: datetime,
    by: int | None, now: datetime, key: str | None = None,
) -> Period:  # fmt: skip
    """Store a budget consultation as a public consultation in the staff's language."""
    t = translator(m.staff_language)
    new = NewConsultation(
        period.title(t, year), period.description(t, year),
        starts, ends, m.name_in(t.language), None, key=key,
    )  # fmt: skip
    consultation_id = await budget_consultation.open_period(conn, new, year, by, now)
    zone = ZoneInfo(m.timezone)
    detail = {
        "year": year, "starts": starts.astimezone(zone).date().isoformat(),
        "ends": ends.astimezone(zone).date().isoformat(), **({"by": "file"} if by is None else {}),
    }  # fmt: skip
    await budget_audit.record(
        conn, by, Action.CONSULTATION_OPENED, Subject.CONSULTATION, consultation_id, now, detail
    )
    p = await budget_consultation.get(conn, consultation_id)
    assert p is not None  # noqa: S101 - it was just stored
    return p


async def _audit_close(
    conn: aiosqlite.Connection, p: Period, by: int | None, now: datetime,
    counts: list[tuple[str, str, int]],
) -> None:  # fmt: skip
    detail: dict[str, object] = {"year": p.year, "proposals": sum(n for *_, n in counts)}
    if by is None:
        detail["by"] = "file"
    await budget_audit.record(
        conn, by, Action.CONSULTATION_CLOSED, Subject.CONSULTATION, p.id, now, detail
    )


def _announcement(p: Period, zone: ZoneInfo) -> broadcast.Render:
    def render(t: Translator) -> Reply:
        text = t.gettext("💰 The municipality is drafting the {year} budget.", year=p.year)
        return Reply(f"{text}\n{period_words(t, p, zone)}", column([propose_button(t, p)]))

    return render


async def _opening_audience(conn: aiosqlite.Connection) -> list[broadcast.Recipient]:
    """The budget's followers and the subscribers of public consultations (each once)."""
    subscribers = await subscriptions.reachable_subscribers(conn, "consultations")
    return await with_followers(conn, subscribers)


async def _closing_audience(conn: aiosqlite.Connection, p: Period) -> list[broadcast.Recipient]:
    """Everyone who proposed and the budget's followers (each once)."""
    return await with_followers(conn, await budget_consultation.proposers(conn, p.id))


async def choose_verdict(ctx: Context, press: Verdict | ChangeAnswer) -> Step | None:
    """Keep the verdict (a first answer, or a change of the one given); ask for the reason the
    resident will read."""
    proposal = await budget_consultation.get_proposal(ctx.conn, press.proposal_id)
    if proposal is None or press.verdict not in VERDICTS:
        return None
    # A first answer's button on an answered proposal: another admin answered meanwhile.
    taken = isinstance(press, Verdict) and proposal.verdict is not None
    if taken or proposal.verdict == press.verdict:
        return engine.stay(ctx, [Reply(ctx.t.gettext("That proposal was already answered."))])
    if isinstance(press, ChangeAnswer) and proposal.verdict != press.shown:
        # An old card: a colleague changed the answer since; show what it is now.
        history = await budget_audit.of_subjects(ctx.conn, Subject.PROPOSAL, [proposal.id])
        zone = ZoneInfo(ctx.municipality.timezone)
        text = ctx.t.gettext(
            "The answer to proposal #{id} was changed meanwhile; nothing was changed now."
            " Here is the proposal as it is:",
            id=proposal.id,
        )
        card = staff_card(ctx.t, proposal, history[proposal.id], zone)
        return engine.stay(ctx, [Reply(text), card])
    text = ctx.t.gettext(
        "Proposal #{id}: {verdict}. Write the reason; the resident will read it.",
        id=proposal.id, verdict=ctx.t.gettext(VERDICT_NAMES[press.verdict]),
    )  # fmt: skip
    # The answer seen when the button was pressed: two staff answering at once give one.
    draft = {"proposal_id": proposal.id, "verdict": press.verdict, "was": proposal.verdict}
    return Step(BudgetState.REASON, draft, [Reply(text)])


async def write_reason(ctx: Context, event: Text) -> Step | None:
    """Store the answer (once) and tell the resident."""
    _ = ctx.t.gettext
    reason = event.text.strip()[:MAX_TEXT]
    proposal_id, verdict = ctx.draft.get("proposal_id"), str(ctx.draft.get("verdict"))
    if not reason or not isinstance(proposal_id, int) or verdict not in VERDICTS:
        return None
    was = ctx.draft.get("was")
    was = str(was) if was in VERDICTS else None
    if not await budget_consultation.answer(
        ctx.conn, proposal_id, verdict, reason, ctx.user.id, ctx.now, was=was
    ):
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, _("That proposal was already answered."))])
    action, detail = (
        (Action.ANSWER_CHANGED, {"verdict": verdict, "old": was}) if was
        else (Action.ANSWER_GIVEN, {"verdict": verdict})
    )  # fmt: skip
    await budget_audit.record(
        ctx.conn, ctx.user.id, action, Subject.PROPOSAL, proposal_id, ctx.now, detail, reason
    )
    log.info("admin %s answered proposal %s: %s", ctx.user.id, proposal_id, verdict)
    step = Step(MenuState.MAIN, {}, [menu_reply(ctx, _("The answer was sent."))])
    proposal = await budget_consultation.get_proposal(ctx.conn, proposal_id)
    author = await users.load_conversation_by_id(ctx.conn, proposal.user_id) if proposal else None
    if proposal is not None and author is not None:
        t = translator(author.user.language)
        words = (
            N_("The municipality changed its answer to your proposal #{id} for the budget:"
               " {verdict}.\n{reason}")
            if was
            else N_("The municipality answered your proposal #{id} for the budget: {verdict}."
                    "\n{reason}")
        )  # fmt: skip
        notice = t.gettext(
            words, id=proposal.id, verdict=t.gettext(VERDICT_NAMES[verdict]), reason=reason
        )
        step.outgoing = [Outgoing(author.user.channel, author.user.chat_id, Reply(notice))]
    return step


def results(t: Translator, p: Period, counts: list[tuple[str, str, int]]) -> str:
    """The counts per answer and per program, published when the consultation closes."""
    per_verdict: Counter[str] = Counter()
    per_program: Counter[str] = Counter()
    for program, verdict, n in counts:
        per_verdict[verdict] += n
        per_program[program] += n
    total = sum(per_verdict.values())
    lines = [
        t.gettext("The consultation on the {year} budget has closed.", year=p.year),
        t.gettext("Proposals sent: {n}.", n=total),
    ]
    if total:
        lines += [
            f"• {t.gettext(VERDICT_NAMES[v]).capitalize()}: {per_verdict[v]}" for v in VERDICTS
        ]
        if per_verdict[""]:
            lines.append(f"• {t.gettext('not answered yet').capitalize()}: {per_verdict['']}")
        lines.append(t.gettext("By program:"))
        lines += [
            f"• {program_name(t, code)}: {n}"
            for code, n in sorted(per_program.items(), key=lambda x: (-x[1], x[0]))
        ]
    return "\n".join(lines)


async def close(ctx: Context) -> Step:
    """Close the consultation (once) and send its results to followers and proposers."""
    _ = ctx.t.gettext
    p = await budget_consultation.unclosed(ctx.conn)
    if p is None or not await budget_consultation.close(ctx.conn, p.id, ctx.user.id, ctx.now):
        return engine.stay(ctx, [Reply(_("No consultation on the budget is open."))])
    log.info("admin %s closed budget consultation %s", ctx.user.id, p.id)
    counts = await budget_consultation.counts(ctx.conn, p.id)
    await _audit_close(ctx.conn, p, ctx.user.id, ctx.now, counts)
    audience = await _closing_audience(ctx.conn, p)
    return Step(MenuState.MAIN, {}, await tell(ctx, audience, _results_reply(p, counts)))


def _results_reply(p: Period, counts: list[tuple[str, str, int]]) -> broadcast.Render:
    return lambda t: Reply(results(t, p, counts))


# The period by its dates: the scheduler's job (idempotent: what is due is read from the database).


async def keep_period(conn: aiosqlite.Connection, m: Municipality, now: datetime) -> list[Outgoing]:
    """Close a consultation whose last day has passed, publishing its counts; open the municipality
    file's period on its first day (once: it is stored under its key, so a restart, a second run
    or an admin's early close does not open it again)."""
    zone = ZoneInfo(m.timezone)
    out: list[Outgoing] = []
    p = await budget_consultation.unclosed(conn)
    ended = p is not None and p.ends_at <= now
    if p is not None and ended and await budget_consultation.close(conn, p.id, None, now):
        log.info("budget consultation %s closed at the end of its period", p.id)
        counts = await budget_consultation.counts(conn, p.id)
        await _audit_close(conn, p, None, now, counts)
        audience = await _closing_audience(conn, p)
        render = _results_reply(p, counts)
        await broadcast.queue(conn, TOPIC, results(translator(m.staff_language), p, counts),
                              [(audience, render)], now, None, zone=m.timezone)  # fmt: skip
        out += await _to_other_admins(conn, m, audience, render)
        p = None
    period = m.budget.consultation if m.budget else None
    if period is None or p is not None:  # one at a time: the file's waits for an admin's to close
        return out
    starts, ends = period.starts_at(zone), period.ends_at(zone)
    if not starts <= now < ends or await budget_consultation.by_key(conn, period.key) is not None:
        return out
    p = await _store(conn, m, period.year, starts, ends, None, now, key=period.key)
    log.info("budget consultation %s opened from the municipality file", p.id)
    audience = await _opening_audience(conn)
    await broadcast.queue(conn, TOPIC, _title(m, p.year), [(audience, _announcement(p, zone))],
                          now, None, zone=m.timezone)  # fmt: skip
    return out + await _to_other_admins(
        conn, m, audience, lambda t: Reply(opened_words(t, p, zone))
    )


async def _to_other_admins(
    conn: aiosqlite.Connection,
    m: Municipality,
    audience: list[broadcast.Recipient],
    render: broadcast.Render,
) -> list[Outgoing]:
    """The admins not in ``audience`` are told too (nobody pressed a command to see it)."""
    told = {r[0] for r in audience}
    return [
        Outgoing(a.channel, a.chat_id, render(translator(a.language, m.timezone)))
        for a in await users.admins(conn)
        if a.id not in told
    ]
