"""Following subjects, authors and languages; the digest of matching new titles.

A follower is told weekly (one digest a week at most, from Monday 09:00, the municipality's time)
or as titles arrive. What is due is computed from the database: the id of the last title each
reader was told about, and the week of their last digest, written in the same transaction as the
message, so the job can run twice, or after a restart, and send nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import aiosqlite

from handlers.context import Context, Step, buttons, column
from handlers.events import Button, Outgoing, Reply, Text
from handlers.flow import ButtonData
from handlers.i18n import translator
from handlers.library.browse import LIST_LIMIT, LibraryAction, LibraryState, back_button, describe
from handlers.library.titles import LANGUAGE_NAMES, SUBJECTS, normalise
from handlers.municipality import Municipality
from storage import library
from storage.library import Follow, Reader, Title

MODES = ("weekly", "instant")
DIGEST_HOUR = 9  # on Mondays
MAX_AUTHOR = 60  # characters of a followed author's name
MAX_FOLLOWS = 50
# Authors have a screen of their own: with a button each on the follows screen, the second
# author took it over Viber's 24 buttons (13 subjects, 6 languages and 4 more are there).
MAX_AUTHORS = 20
TITLES_PER_RUN = 5000


@dataclass(frozen=True, slots=True)
class FollowValue(ButtonData):
    """Follow or stop following a subject or a language."""

    prefix = "libf"
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class UnfollowAuthor(ButtonData):
    """Stop following an author (by the follow's id: a name may be long or in Cyrillic)."""

    prefix = "libu"
    follow_id: int


@dataclass(frozen=True, slots=True)
class DigestMode(ButtonData):
    """Be told weekly or as titles arrive."""

    prefix = "libm"
    mode: str


def _pairs(items: list[Button]) -> list[list[Button]]:
    return [items[i : i + 2] for i in range(0, len(items), 2)]


async def show_follows(ctx: Context, note: str | None = None) -> Step:
    """What the resident follows, with switches, and how they are told."""
    _ = ctx.t.gettext
    follows = await library.follows_of(ctx.conn, ctx.user.id)
    mode = await library.mode_of(ctx.conn, ctx.user.id)
    on = {(f.kind, f.value) for f in follows}

    def switch(kind: str, value: str, label: str) -> Button:
        mark = "✅ " if (kind, value) in on else "⬜ "
        return FollowValue(kind, value).button(mark + _(label))

    subjects = [switch("subject", s, label) for s, label in SUBJECTS.items()]
    languages = [switch("language", code, name) for code, name in LANGUAGE_NAMES.items()]
    authors = sum(1 for f in follows if f.kind == "author")
    to_authors = (
        LibraryAction("authors").button(_("✍️ Authors I follow ({n})", n=authors))
        if authors
        else LibraryAction("author").button(_("➕ Follow an author"))
    )
    modes = [
        DigestMode("weekly").button(("🔘 " if mode == "weekly" else "⚪ ") + _("Weekly digest")),
        DigestMode("instant").button(("🔘 " if mode == "instant" else "⚪ ") + _("As they arrive")),
    ]
    rows = buttons(
        *_pairs(subjects),
        *_pairs(languages),
        [to_authors],
        modes,
        [back_button(ctx)],
    )
    text = _(
        "Choose the subjects, languages and authors you follow. New titles that match come to"
        " you in a weekly digest or as they arrive."
    )
    return Step(LibraryState.HOME, {}, [Reply(f"{note}\n\n{text}" if note else text, rows)])


async def toggle_value(ctx: Context, press: FollowValue) -> Step | None:
    """Follow a subject or a language, or stop."""
    names = {"subject": SUBJECTS, "language": LANGUAGE_NAMES}.get(press.kind, {})
    if press.value not in names:
        return None
    if not await library.unfollow_value(ctx.conn, ctx.user.id, press.kind, press.value):
        await library.follow(ctx.conn, ctx.user.id, press.kind, press.value, ctx.now)
    return await show_follows(ctx)


async def show_authors(ctx: Context, note: str | None = None) -> Step:
    """The authors the resident follows, each with a button to stop; one more can be added."""
    _ = ctx.t.gettext
    follows = await library.follows_of(ctx.conn, ctx.user.id)
    authors = [UnfollowAuthor(f.id).button("✅ " + f.value) for f in follows if f.kind == "author"]
    add = [LibraryAction("author").button(_("➕ Follow an author"))]
    back = LibraryAction("follow").button(_("⭐ What I follow"))
    rows = column([*authors, *(add if len(authors) < MAX_AUTHORS else []), back])
    text = _("Press an author to stop following them.") if authors else _("You follow no author.")
    return Step(LibraryState.HOME, {}, [Reply(f"{note}\n\n{text}" if note else text, rows)])


async def stop_author(ctx: Context, press: UnfollowAuthor) -> Step | None:
    """Stop following an author."""
    if not await library.unfollow(ctx.conn, ctx.user.id, press.follow_id):
        return None
    return await show_authors(ctx)


async def choose_mode(ctx: Context, press: DigestMode) -> Step | None:
    """Weekly or as they arrive."""
    if press.mode not in MODES:
        return None
    await library.set_mode(ctx.conn, ctx.user.id, press.mode)
    return await show_follows(ctx)


async def ask_author(ctx: Context) -> Step:
    """Ask for the author's name."""
    text = ctx.t.gettext("Write the author's name (for example: Ivo Andrić).")
    return Step(LibraryState.AUTHOR, {}, [Reply(text)])


async def add_author(ctx: Context, event: Text) -> Step | None:
    """Follow the author written (the same name in another script or order is not added)."""
    name = " ".join(event.text.split())[:MAX_AUTHOR]
    if not normalise(name):
        return None
    follows = await library.follows_of(ctx.conn, ctx.user.id)
    key = author_key(name)
    authors = [f for f in follows if f.kind == "author"]
    if len(follows) < MAX_FOLLOWS and len(authors) < MAX_AUTHORS:
        if all(author_key(f.value) != key for f in authors):
            await library.follow(ctx.conn, ctx.user.id, "author", name, ctx.now)
        note = ctx.t.gettext("You follow {author}.", author=name)
    else:
        note = ctx.t.gettext("You follow as many authors as you can; stop following one first.")
    return await show_authors(ctx, note)


@lru_cache(maxsize=65536)
def author_key(name: str) -> frozenset[str]:
    """An author's names, normalised, in any order (cached: the digest asks for each name once
    per follower and title, and normalising is the costly part)."""
    return frozenset(normalise(name).split())


def matching(
    readers: list[Reader], follows: dict[int, list[Follow]], titles: list[Title]
) -> dict[int, list[Title]]:
    """The titles each reader follows, by indexes (a subject's, a language's, an author's
    readers) rather than by testing every title against every reader."""
    by_subject: dict[str, set[int]] = defaultdict(set)
    by_language: dict[str, set[int]] = defaultdict(set)
    by_author: dict[frozenset[str], set[int]] = defaultdict(set)
    for reader in readers:
        for f in follows.get(reader.user_id, []):
            if f.kind == "subject":
                by_subject[f.value].add(reader.user_id)
            elif f.kind == "language":
                by_language[f.value].add(reader.user_id)
            elif author_key(f.value):
                by_author[author_key(f.value)].add(reader.user_id)
    people = [[author_key(a) for a in (*t.authors, t.responsibility or "") if a] for t in titles]
    by_token: dict[str, set[int]] = defaultdict(set)
    for i, names in enumerate(people):
        for name in names:
            for token in name:
                by_token[token].add(i)
    hits: dict[int, set[int]] = defaultdict(set)
    for i, title in enumerate(titles):
        for user_id in by_subject.get(title.subject, set()) | by_language.get(
            title.language or "", set()
        ):
            hits[user_id].add(i)
    for key, user_ids in by_author.items():
        candidates = set.intersection(*(by_token.get(token, set()) for token in key))
        # One author's names, not a forename of one co-author and the surname of another.
        same = {i for i in candidates if any(key <= name for name in people[i])}
        for user_id in user_ids:
            hits[user_id] |= same
    return {user_id: [titles[i] for i in sorted(found)] for user_id, found in hits.items()}


def week_of(moment: datetime) -> str:
    """The ISO week of a moment, as ``2026-W21``."""
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


async def send_digests(
    conn: aiosqlite.Connection, m: Municipality, now: datetime
) -> list[Outgoing]:
    """Tell each follower about the new titles that match: weekly, or as they arrive."""
    local = now.astimezone(ZoneInfo(m.timezone))
    week = week_of(local)
    weekly_due = not (local.weekday() == 0 and local.hour < DIGEST_HOUR)
    readers = [
        r
        for r in await library.readers_behind(conn)
        if r.mode == "instant" or (weekly_due and r.digest_week != week)
    ]
    if not readers:
        return []
    titles = await library.titles_after(conn, min(r.seen_title_id for r in readers), TITLES_PER_RUN)
    follows = await library.all_follows(conn, [r.user_id for r in readers])
    matched = matching(readers, follows, titles)
    out = []
    for reader in readers:
        if not titles or titles[-1].id <= reader.seen_title_id:
            continue
        found = [t for t in matched.get(reader.user_id, []) if t.id > reader.seen_title_id]
        digest = week if found and reader.mode == "weekly" else None
        if await library.mark_told(conn, reader, titles[-1].id, digest) and found:
            out.append(digest_message(m, reader, found))
    return out


def digest_message(m: Municipality, reader: Reader, found: list[Title]) -> Outgoing:
    """One message with the titles that match what a reader follows."""
    t = translator(reader.language)
    lines = [t.gettext("📚 New in the library for you:")]
    lines += [describe(t, m.library, title) for title in found[:LIST_LIMIT]]
    more = len(found) - LIST_LIMIT
    if more > 0:
        lines.append(t.ngettext("… and {n} more.", "… and {n} more.", more))
    keys = column([LibraryAction("follow").button(t.gettext("⭐ What I follow"))])
    return Outgoing(reader.channel, reader.chat_id, Reply("\n\n".join(lines), keys))
