"""The report's card in a staff chat: its buttons (typed, from the lifecycle) and its text."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.context import buttons, column
from handlers.events import Button, Choices, Reply
from handlers.flow import ButtonData, Role
from handlers.i18n import Translator
from handlers.lifecycle import card_actions
from handlers.texts import N_
from storage.reports import Report

REJECT_REASONS = {
    "not_ours": N_("not the responsibility of the municipality"),
    "duplicate": N_("a duplicate of another report"),
    "info": N_("not enough information"),
}
ACTION_LABELS = {
    "ack": N_("👀 Acknowledge"),
    "progress": N_("🛠 In progress"),
    "resolve": N_("✅ Resolved"),
    "reject": N_("⛔ Reject"),
    "reply": N_("💬 Reply"),
}


@dataclass(frozen=True, slots=True)
class CardAction(ButtonData):
    """A button of a report's card: a status change, or Reply."""

    prefix = "st"
    role = Role.OPERATOR
    in_groups = True
    action: str
    report_id: int


@dataclass(frozen=True, slots=True)
class RejectReason(ButtonData):
    """One of the reasons offered after Reject."""

    prefix = "rj"
    role = Role.OPERATOR
    in_groups = True
    report_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class PromptChoice(ButtonData):
    """Under a question to a staff member in their private chat: ``skip`` the photo of the fix,
    or ``cancel`` the question; either way the report's card buttons come back."""

    prefix = "sq"
    role = Role.OPERATOR
    choice: str
    report_id: int


PROMPT_CHOICES = {"skip": N_("⏭ Skip"), "cancel": N_("✖️ Cancel")}


def prompt_choices(t: Translator, report_id: int, choices: tuple[str, ...]) -> Choices:
    """The buttons under a staff member's question (in one row)."""
    return buttons(
        [PromptChoice(c, report_id).button(t.gettext(PROMPT_CHOICES[c])) for c in choices]
    )


def card_buttons(t: Translator, report: Report) -> tuple[tuple[Button, ...], ...]:
    """The actions the status allows (two a row), then Reply."""
    shown = [
        CardAction(a, report.id).button(t.gettext(ACTION_LABELS[a]))
        for a in card_actions(report.status)
    ]
    reply = CardAction("reply", report.id).button(t.gettext(ACTION_LABELS["reply"]))
    return tuple(row for row in (tuple(shown[:2]), tuple(shown[2:]), (reply,)) if row)


def reject_reasons(t: Translator, report: Report) -> Reply:
    """The question "why is it rejected?" with the reasons as buttons."""
    reasons = [
        RejectReason(report.id, key).button(t.gettext(text)) for key, text in REJECT_REASONS.items()
    ]
    return Reply(t.gettext("Why is {ref} rejected?", ref=report.ref), column(reasons))


__all__ = [
    "CardAction",
    "PromptChoice",
    "RejectReason",
    "buttons",
    "card_buttons",
    "prompt_choices",
    "reject_reasons",
]
