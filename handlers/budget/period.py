"""The budget consultation as residents find it: its buttons, the words for its period, and how it
shows in the consultations list (a period for proposals, not a meeting to attend or be reminded
of). handlers/consultations.py imports this module, so it imports no other feature."""

from __future__ import annotations

from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from handlers.context import Context, column
from handlers.events import Button, Reply
from handlers.flow import ButtonData
from handlers.i18n import Translator
from handlers.menu import main_menu_button
from handlers.municipality import Municipality
from storage import budget_consultation
from storage.budget_consultation import Period
from storage.consultations import Consultation


@dataclass(frozen=True, slots=True)
class Propose(ButtonData):
    """Start a proposal for the budget a consultation drafts."""

    prefix = "bpr"
    consultation_id: int


@dataclass(frozen=True, slots=True)
class MyProposals(ButtonData):
    """The resident's proposals with the answers."""

    prefix = "bpm"


def period_words(t: Translator, p: Period, zone: ZoneInfo) -> str:
    """ "Until 31.10.2026 you can propose what the 2027 budget should fund."."""
    return t.gettext(
        "Until {date} you can propose what the {year} budget should fund.",
        date=t.date(p.ends_at.astimezone(zone)),
        year=p.year,
    )


def title(t: Translator, year: int) -> str:
    """The budget consultation's title, in the reader's language."""
    return t.gettext("Proposals for the {year} budget", year=year)


def description(t: Translator, year: int) -> str:
    """What the budget consultation is for, in the reader's language."""
    return t.gettext(
        "Propose what the {year} budget should fund: in the bot, under 💰 Budget.", year=year
    )


def in_language(t: Translator, c: Consultation, m: Municipality) -> Consultation:
    """A budget consultation with its title, description and place in the reader's language
    (they are the bot's own texts; the stored ones are in the staff's language); any other
    consultation as its staff wrote it."""
    if c.budget_year is None:
        return c
    return replace(
        c, title=title(t, c.budget_year), description=description(t, c.budget_year),
        place=m.name_in(t.language),
    )  # fmt: skip


def propose_button(t: Translator, p: Period) -> Button:
    """The button into the proposal flow."""
    return Propose(p.id).button(t.gettext("📝 Propose for the {year} budget", year=p.year))


async def listing(ctx: Context, c: Consultation) -> Reply:
    """A budget consultation opened from 🗣 Public consultations: what it drafts, its period, and
    while it is open the button into the proposal; the resident's proposals once there are any."""
    _ = ctx.t.gettext
    p = await budget_consultation.get(ctx.conn, c.id)
    zone = ZoneInfo(ctx.municipality.timezone)
    if p is None:  # not a budget consultation after all
        return Reply(f"📣 {c.title}\n{c.description}", column([main_menu_button(ctx)]))
    lines = [f"📣 {title(ctx.t, p.year)}", description(ctx.t, p.year)]
    choices: list[Button] = []
    if p.is_open(ctx.now):
        lines.append(period_words(ctx.t, p, zone))
        choices.append(propose_button(ctx.t, p))
    elif p.closed_at is None and ctx.now < p.starts_at:
        lines.append(
            _(
                "Proposals can be sent from {starts} to {ends}.",
                starts=ctx.t.date(p.starts_at),
                ends=ctx.t.date(p.ends_at),
            )
        )
    else:
        lines.append(_("The consultation on the budget is not open now."))
    if await budget_consultation.proposals_of(ctx.conn, ctx.user.id, limit=1):
        choices.append(MyProposals().button(_("🗒 My proposals")))
    return Reply("\n".join(lines), column([*choices, main_menu_button(ctx)]))
