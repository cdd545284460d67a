"""A consultation's title as its reader sees it (the list, the reminders, the notices, /mydata)."""

from __future__ import annotations

from handlers.budget import period as budget_period
from handlers.i18n import Translator
from storage.consultations import Consultation


def title_for(t: Translator, c: Consultation) -> str:
    """A consultation's title for the reader (see ``title_of``)."""
    return title_of(t, c.title, c.budget_year)


def title_of(t: Translator, title: str, budget_year: int | None) -> str:
    """A budget consultation's title is in the reader's language (the bot's words for its year);
    the others' as written (in Cyrillic, by the municipality file or a clerk), in the reader's
    script."""
    return budget_period.title(t, budget_year) if budget_year is not None else t.name(title)
