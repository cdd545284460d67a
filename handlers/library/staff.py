"""The librarian's work: the suggestions ranked by support, the answers, the library's events,
and the jobs that tell residents when an ordered title arrives and the librarians what is new."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from handlers import engine
from handlers.context import Context, Step, parse_id
from handlers.events import Outgoing, Reply
from handlers.flow import Role
from handlers.i18n import Translator, translator
from handlers.library.browse import describe
from handlers.library.follow import DIGEST_HOUR, week_of
from handlers.library.suggest import answer_text, tell
from handlers.municipality import Municipality
from storage import library
from storage import library_suggestions as suggestions
from storage.library_suggestions import Suggestion

RANKED_LIMIT = 20
EVENT_FORMAT = "%d.%m.%Y %H:%M"
ANSWER_WORDS = {
    "ordered": suggestions.ORDERED,
    "available": suggestions.AVAILABLE,
    "notplanned": suggestions.NOT_PLANNED,
}


def usage(ctx: Context) -> Step:
    """How the librarian's commands are written."""
    text = ctx.t.gettext(
        "Librarian's commands:\n/library suggestions\n/library ordered ID\n"
        "/library available ID [LINK]\n/library notplanned ID REASON\n"
        "/library event DD.MM.YYYY HH:MM | TITLE | PLACE"
    )
    return engine.stay(ctx, [Reply(text)])


async def ranked(ctx: Context, args: str) -> Step:
    """/library suggestions: what residents miss, the most wanted first, with their reasons."""
    del args
    t = ctx.t
    found = await suggestions.ranked(ctx.conn, suggestions.SHOWN, RANKED_LIMIT)
    if not found:
        return engine.stay(ctx, [Reply(t.gettext("There are no open suggestions."))])
    lines = [t.gettext("Suggestions, the most wanted first:")]
    for s in found:
        why = await suggestions.reasons(ctx.conn, s.id)
        lines.append(staff_line(t, s, why))
    return engine.stay(ctx, [Reply("\n\n".join(lines))])


def staff_line(t: Translator, s: Suggestion, why: list[str]) -> str:
    """One suggestion for the librarian."""
    head = f"#{s.id} {s.title} — {s.author}" + (f" (ISBN {s.isbn})" if s.isbn else "")
    wants = t.ngettext("{n} wants it", "{n} want it", s.supporters)
    status = t.gettext("ordered") if s.status == suggestions.ORDERED else t.gettext("suggested")
    lines = [head, f"👍 {wants} · {status}"]
    lines += [f"  “{reason[:200]}”" for reason in why[:3]]
    return "\n".join(lines)


async def answer(ctx: Context, word: str, args: str) -> Step:
    """/library ordered|available|notplanned ID ...: answer, and tell everyone who asked."""
    _ = ctx.t.gettext
    raw_id, _sep, rest = args.partition(" ")
    number = parse_id(raw_id)
    found = await suggestions.get(ctx.conn, number) if number is not None else None
    status = ANSWER_WORDS[word]
    rest = rest.strip()
    if found is None or (status == suggestions.NOT_PLANNED and not rest):
        return usage(ctx)
    text: str | None = rest[:500] or None
    if status == suggestions.AVAILABLE and text is None:
        info = ctx.municipality.library
        text = info.link(found.isbn, found.title, found.author) if info else None
    if not await suggestions.answer(ctx.conn, found.id, status, text, ctx.user.id, ctx.now):
        return engine.stay(ctx, [Reply(_("Suggestion #{id} was answered already.", id=found.id))])
    answered = await suggestions.get(ctx.conn, found.id)
    assert answered is not None  # noqa: S101 - it was just updated
    people = await suggestions.supporters(ctx.conn, found.id)
    told = ctx.t.ngettext(
        "Answered; {n} resident is told.", "Answered; {n} residents are told.", len(people)
    )
    step = engine.stay(ctx, [Reply(told)])
    step.outgoing = tell(people, lambda t: Reply(answer_text(t, answered) or ""))
    return step


async def add_event(ctx: Context, args: str) -> Step:
    """/library event DD.MM.YYYY HH:MM | TITLE | PLACE: a reading, a workshop."""
    parts = [p.strip() for p in args.split("|")]
    moment = None
    if len(parts) == 3 and all(parts):
        try:
            zone = ZoneInfo(ctx.municipality.timezone)
            moment = datetime.strptime(parts[0], EVENT_FORMAT).replace(tzinfo=zone)
        except ValueError:
            moment = None
    if moment is None or moment <= ctx.now:
        return usage(ctx)
    await library.add_event(ctx.conn, parts[1][:200], moment, parts[2][:200], ctx.user.id, ctx.now)
    text = ctx.t.gettext("The event is in the library's list: {title}", title=parts[1][:200])
    return engine.stay(ctx, [Reply(text)])


SUBCOMMANDS = ("suggestions", "ordered", "available", "notplanned", "event", "import")


def is_librarian(ctx: Context) -> bool:
    """Whether the user may do the librarian's work now."""
    return Role.LIBRARIAN.admits(ctx.user)


async def tell_arrivals(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """An ordered title that shows up in an import: tell everyone who asked for it (once)."""
    del now
    out: list[Outgoing] = []
    for found, title_id in await suggestions.arrivals(conn):
        if not await suggestions.mark_arrived(conn, found.id, title_id):
            continue
        title = await library.get(conn, title_id)
        people = await suggestions.supporters(conn, found.id)
        if title is None:
            continue

        def render(t: Translator, title: library.Title = title) -> Reply:
            head = t.gettext("The title you asked for has arrived at the library:")
            return Reply(f"{head}\n\n{describe(t, m.library, title)}")

        out += tell(people, render)
    return out


async def digest_for_librarians(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Once a week (from Monday 09:00): the week's new suggestions, the most wanted first."""
    local = now.astimezone(ZoneInfo(m.timezone))
    if local.weekday() == 0 and local.hour < DIGEST_HOUR:
        return []
    fresh = await suggestions.created_since(conn, now - timedelta(days=7))
    people = await library.librarians(conn)
    if (
        not fresh
        or not people
        or not await suggestions.claim_staff_digest(conn, week_of(local), now)
    ):
        return []
    out = []
    for person in people:
        t = translator(person.language)
        lines = [t.ngettext("{n} new suggestion this week:", "{n} new suggestions this week:",
                            len(fresh))]  # fmt: skip
        lines += [staff_line(t, s, []) for s in fresh[:RANKED_LIMIT]]
        out.append(Outgoing(person.channel, person.chat_id, Reply("\n\n".join(lines))))
    return out
