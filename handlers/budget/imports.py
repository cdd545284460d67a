"""An import checked and previewed, then stored: the same for the command line and for chat."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from handlers.budget.importer import DocumentKind, Side
from handlers.budget.money import exact, signed_millions
from handlers.budget.programs import program_name
from handlers.i18n import Translator
from handlers.texts import N_
from storage import budget, budget_audit
from storage.budget import Line, Total, Version
from storage.budget_audit import Action, Subject

KIND_NAMES = {
    DocumentKind.ADOPTED: N_("adopted budget"),
    DocumentKind.REBALANCE: N_("rebalance"),
    DocumentKind.EXECUTION: N_("execution report"),
}


@dataclass(frozen=True, slots=True)
class Document:
    """What is being imported: which document of which year, as of which date."""

    year: int
    kind: DocumentKind
    as_of: date
    file_name: str


@dataclass(frozen=True, slots=True)
class Preview:
    """A document's totals per program and how they differ from the version before it."""

    document: Document
    programs: list[Total]
    spending: Total
    revenue: Total
    previous: Version | None
    before: dict[str, Total]  # the previous version's totals per program


def totals_of(lines: list[Line]) -> list[Total]:
    """Planned and executed per program of the spending lines, the largest first."""
    planned: dict[str, int] = defaultdict(int)
    executed: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.side == Side.SPENDING and line.program is not None:
            planned[line.program] += line.planned
            executed[line.program] += line.executed
    return sorted(
        (Total(p, "", planned[p], executed[p]) for p in planned),
        key=lambda x: (-x.planned, x.key),
    )


def _sum(lines: list[Line], side: Side) -> Total:
    mine = [x for x in lines if x.side == side]
    return Total(side, "", sum(x.planned for x in mine), sum(x.executed for x in mine))


async def preview(conn: aiosqlite.Connection, document: Document, lines: list[Line]) -> Preview:
    """The preview of a checked document, beside the version of its year that it follows."""
    previous = await budget.before(conn, document.year, document.as_of)
    before = {x.key: x for x in await budget.program_totals(conn, previous.id)} if previous else {}
    return Preview(
        document,
        totals_of(lines),
        _sum(lines, Side.SPENDING),
        _sum(lines, Side.REVENUE),
        previous,
        before,
    )


async def store(
    conn: aiosqlite.Connection,
    document: Document,
    lines: list[Line],
    *,
    imported_by: int | None,
    now: datetime,
    published: bool = True,
) -> int:
    """Store the document as a new version of its year; return its id."""
    return await budget.add_version(
        conn, document.year, document.kind, document.as_of, document.file_name, lines,
        imported_by=imported_by, now=now, published=published,
    )  # fmt: skip


def facts(document: Document) -> dict[str, object]:
    """What the audit keeps of a document: its kind, year, date and file."""
    d = document
    return {"kind": d.kind, "year": d.year, "as_of": d.as_of.isoformat(), "file": d.file_name}


async def audit(
    conn: aiosqlite.Connection, action: Action, actor_id: int | None, version_id: int,
    document: Document, now: datetime, by: str | None = None,
) -> None:  # fmt: skip
    """The audit entry of a version's preview, publication or drop (``by``: not a person)."""
    detail = facts(document) | ({"by": by} if by else {})
    await budget_audit.record(conn, actor_id, action, Subject.VERSION, version_id, now, detail)


def kind_name(t: Translator, kind: str) -> str:
    """A document kind in the reader's language."""
    return t.gettext(KIND_NAMES.get(DocumentKind(kind), kind))


def describe(t: Translator, p: Preview) -> str:
    """The preview as staff read it before confirming."""
    d = p.document
    lines = [
        t.gettext(
            "{file}: {kind} for {year}, as of {date}",
            file=d.file_name,
            kind=kind_name(t, d.kind),
            year=d.year,
            date=t.date(d.as_of),
        ),
        t.gettext(
            "Spending: planned {planned}, executed {executed}",
            planned=exact(t, p.spending.planned),
            executed=exact(t, p.spending.executed),
        ),
        t.gettext(
            "Revenue: planned {planned}, executed {executed}",
            planned=exact(t, p.revenue.planned),
            executed=exact(t, p.revenue.executed),
        ),
        "",
    ]
    for total in p.programs:
        line = f"{total.key} {program_name(t, total.key)}: {exact(t, total.planned)}"
        if total.executed:
            line += " / " + exact(t, total.executed)
        old = p.before.get(total.key)
        if old is not None and old.planned != total.planned:
            line += " (" + signed_millions(t, total.planned - old.planned) + ")"
        lines.append(line)
    if p.previous is None:
        lines.append("\n" + t.gettext("This is the first version of this year's budget."))
    else:
        lines.append(
            "\n"
            + t.gettext(
                "Differences in the plan are against the {kind} as of {date}.",
                kind=kind_name(t, p.previous.kind),
                date=t.date(p.previous.as_of),
            )
        )
    return "\n".join(lines)
