"""The staff's list of budget proposals: ``/budget proposals`` (those waiting for an answer) and
``/budget proposals answered`` (the latest answered) as one message, a button per proposal and
"Next"/"Previous" for more. A button opens the proposal's card with its answer buttons.

One message, not a card per proposal: on Viber only the last message's keyboard can be pressed,
so the answer buttons of every card but the last were out of reach. The same list serves
Telegram, so staff work one way on both."""

from __future__ import annotations

from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from handlers import engine
from handlers.budget.audit import VERDICT_NAMES
from handlers.budget.consultation import staff_card
from handlers.budget.programs import program_name
from handlers.context import Context, Step, column
from handlers.events import Button, Choices, Reply
from handlers.flow import ButtonData, Role
from handlers.i18n import Translator
from storage import budget_audit, budget_consultation
from storage.budget_audit import Subject
from storage.budget_consultation import Proposal

PAGE = 8  # proposals a screen: with Previous, Next and the way back, within Viber's keyboard
MAX_LINE = 90  # of a proposal's text in the list (the card shows it whole)
MAX_LABEL = 40  # of a button's text (Viber's buttons hold two short lines)


@dataclass(frozen=True, slots=True)
class ProposalPage(ButtonData):
    """A screen of the list: waiting (``answered`` 0) or answered (1), from ``offset``."""

    prefix = "bpl"
    role = Role.ADMIN
    answered: int
    offset: int


@dataclass(frozen=True, slots=True)
class OpenProposal(ButtonData):
    """A proposal's card with its answer buttons, opened from the list at ``offset``."""

    prefix = "bpo"
    role = Role.ADMIN
    proposal_id: int
    answered: int
    offset: int


def shortened(text: str, most: int) -> str:
    """``text`` on one line, cut at a word within ``most`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= most:
        return flat
    cut = flat[: most - 1].rsplit(" ", 1)[0].rstrip(",;:-–") or flat[: most - 1]
    return cut + "…"


def _line(t: Translator, p: Proposal) -> str:
    head = f"#{p.id} {program_name(t, p.program)}"
    if p.verdict:
        head += f" · {t.gettext(VERDICT_NAMES[p.verdict])}"
    return f"{head}: {shortened(p.text, MAX_LINE)}"


async def _found(ctx: Context, answered: bool, offset: int) -> list[Proposal]:
    """A screen's proposals and one more (whether there is a next screen)."""
    get = budget_consultation.latest if answered else budget_consultation.unclosed
    p = await get(ctx.conn)
    if p is None:
        return []
    read = budget_consultation.answered if answered else budget_consultation.unanswered
    return await read(ctx.conn, p.id, limit=PAGE + 1, offset=offset)


async def show(ctx: Context, answered: bool, offset: int = 0) -> Step:
    """One screen of the list: a line and a button per proposal, Previous and Next."""
    _ = ctx.t.gettext
    offset = max(offset, 0)
    found = await _found(ctx, answered, offset)
    if not found and offset:  # answered meanwhile: the list is shorter now
        offset = 0
        found = await _found(ctx, answered, offset)
    if not found:
        none = (
            _("No proposal has been answered yet.")
            if answered
            else _("No proposal is waiting for an answer.")
        )
        return engine.stay(ctx, [Reply(none)])
    shown, more = found[:PAGE], len(found) > PAGE
    first, last = offset + 1, offset + len(shown)
    head = (
        _("📋 Answered proposals, the latest first ({first}–{last}); press one to see it or"
          " change its answer:", first=first, last=last)
        if answered
        else _("📋 Proposals waiting for an answer ({first}–{last}); press one to answer it:",
               first=first, last=last)
    )  # fmt: skip
    flag = int(answered)
    choices: list[Button] = [
        OpenProposal(p.id, flag, offset).button(f"#{p.id} {shortened(p.text, MAX_LABEL)}")
        for p in shown
    ]
    if offset:
        back = ProposalPage(flag, max(offset - PAGE, 0)).button(_("⏪ Previous"))
        choices.append(back)
    if more:
        choices.append(ProposalPage(flag, offset + PAGE).button(_("⏩ Next")))
    text = "\n".join([head, *(_line(ctx.t, p) for p in shown)])
    return engine.stay(ctx, [Reply(text[:3900], column(choices))])


async def page(ctx: Context, press: ProposalPage) -> Step:
    """Previous or Next under the list."""
    return await show(ctx, bool(press.answered), press.offset)


async def open_card(ctx: Context, press: OpenProposal) -> Step | None:
    """A proposal's card, its history and answer buttons, and the way back to the list."""
    proposal = await budget_consultation.get_proposal(ctx.conn, press.proposal_id)
    if proposal is None:
        return None
    history = await budget_audit.of_subjects(ctx.conn, Subject.PROPOSAL, [proposal.id])
    card = staff_card(ctx.t, proposal, history[proposal.id], ZoneInfo(ctx.municipality.timezone))
    # Back to the list the proposal was opened from (an answered one now shows with the others).
    back = ProposalPage(press.answered, press.offset).button(ctx.t.gettext("📋 Back to the list"))
    return engine.stay(ctx, [replace(card, markup=Choices((*card.buttons, (back,))))])
