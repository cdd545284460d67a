"""A consultation's title as its reader sees it (the list, the reminder job, the notices)."""

from __future__ import annotations

from handlers.budget import period as budget_period
from handlers.i18n import Translator
from storage.consultations import Consultation


def title_for(t: Translator, c: Consultation) -> str:
    """A budget consultation's title is in the reader's language; the others' as written (in
    Cyrillic, by the municipality file or a clerk), in the reader's script."""
    return budget_period.title(t, c.budget_year) if c.budget_year is not None else t.name(c.title)
