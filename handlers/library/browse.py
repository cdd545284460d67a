"""What residents see of the library: new this month by subject, search, hours, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from handlers.context import Context, Step, column
from handlers.events import Button, Reply
from handlers.flow import ButtonData
from handlers.i18n import Translator
from handlers.library.info import LibraryInfo
from handlers.library.titles import LANGUAGE_NAMES, SUBJECTS, normalise
from handlers.menu import main_menu_button
from storage import library
from storage.library import Title

LIST_LIMIT = 10  # titles in one message: well under Telegram's 4,096 characters
SHOWN_TEXT = 200  # characters of a title or an author list shown
SEARCH_WORDS = 6


class LibraryState(StrEnum):
    """Where a resident is in the library's part of the bot."""

    HOME = "library:home"
    SEARCH = "library:search"
    AUTHOR = "library:author"
    SUGGEST_TITLE = "library:suggest_title"
    SUGGEST_AUTHOR = "library:suggest_author"
    SUGGEST_ISBN = "library:suggest_isbn"
    SUGGEST_WHY = "library:suggest_why"
    IMPORT = "library:import"
    IMPORT_CONFIRM = "library:import_confirm"


@dataclass(frozen=True, slots=True)
class LibraryAction(ButtonData):
    """One of the library's screens: ``home``, ``new``, ``search``, ``info``, ``events``, ..."""

    prefix = "lib"
    action: str


@dataclass(frozen=True, slots=True)
class NewInSubject(ButtonData):
    """This month's new titles in one subject."""

    prefix = "libs"
    subject: str


def back_button(ctx: Context) -> Button:
    """ "Library" under a list: back to the library's screen."""
    return LibraryAction("home").button(ctx.t.gettext("📚 Library"))


def home_reply(ctx: Context) -> Reply:
    """The library's screen: what a resident can do there."""
    _ = ctx.t.gettext
    info = ctx.municipality.library
    name = ctx.t.name(info.name) if info else _("The town library")
    choices = [
        LibraryAction("new").button(_("🆕 New this month")),
        LibraryAction("search").button(_("🔎 Search titles")),
        LibraryAction("follow").button(_("⭐ Follow subjects, authors, languages")),
        LibraryAction("suggest").button(_("💡 Suggest a missing title")),
        LibraryAction("info").button(_("🕒 Opening hours and contacts")),
        LibraryAction("events").button(_("🎭 Events")),
        main_menu_button(ctx),
    ]
    return Reply(f"📚 {name}", column(choices))


async def home(ctx: Context) -> Step:
    """The library's screen."""
    return Step(LibraryState.HOME, {}, [home_reply(ctx)])


def month_start(ctx: Context) -> datetime:
    """The first moment of this month in the municipality's time zone."""
    local = ctx.now.astimezone(ZoneInfo(ctx.municipality.timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def new_this_month(ctx: Context) -> Step:
    """The subjects with new titles this month, each with its count."""
    _ = ctx.t.gettext
    titles = await library.added_since(ctx.conn, month_start(ctx))
    counts: dict[str, int] = {}
    for title in titles:
        counts[title.subject] = counts.get(title.subject, 0) + 1
    if not counts:
        text = _("No new titles have arrived this month yet.")
        return Step(LibraryState.HOME, {}, [Reply(text, column([back_button(ctx)]))])
    choices = [
        NewInSubject(s).button(f"{_(label)} ({counts[s]})")
        for s, label in SUBJECTS.items()
        if s in counts
    ]
    text = ctx.t.ngettext(
        "{n} new title this month. Choose a subject:",
        "{n} new titles this month. Choose a subject:",
        len(titles),
    )
    return Step(LibraryState.HOME, {}, [Reply(text, column([*choices, back_button(ctx)]))])


async def new_in_subject(ctx: Context, press: NewInSubject) -> Step | None:
    """This month's new titles of one subject, newest first."""
    if press.subject not in SUBJECTS:
        return None
    _ = ctx.t.gettext
    this_month = await library.added_since(ctx.conn, month_start(ctx))
    titles = [t for t in this_month if t.subject == press.subject]
    heading = _("New this month: {subject}", subject=_(SUBJECTS[press.subject]))
    return Step(LibraryState.HOME, {}, [title_list(ctx, heading, titles)])


def title_list(ctx: Context, heading: str, titles: list[Title]) -> Reply:
    """A heading and up to ``LIST_LIMIT`` titles, each with its catalogue link."""
    info = ctx.municipality.library
    lines = [heading, *(describe(ctx.t, info, t) for t in titles[:LIST_LIMIT])]
    more = len(titles) - LIST_LIMIT
    if more > 0:
        lines.append(ctx.t.ngettext("… and {n} more.", "… and {n} more.", more))
    return Reply("\n\n".join(lines), column([back_button(ctx)]))


def describe(t: Translator, info: LibraryInfo | None, title: Title) -> str:
    """One title: name, authors, publisher and year, language, the catalogue's page."""
    people = "; ".join(title.authors) or title.responsibility or ""
    lines = [f"📖 {_cut(title.title)}"]
    if people:
        lines.append(_cut(people))
    published = ", ".join(p for p in (title.publisher, title.year) if p)
    if published:
        lines.append(published)
    if title.language and title.language != "srp":
        name = LANGUAGE_NAMES.get(title.language)
        lines.append(t.gettext(name) if name else title.language)
    link = title.link or (info.link(title.isbn, title.title, people) if info else None)
    if link:
        lines.append(f"🔗 {link}")
    return "\n".join(lines)


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


async def ask_search(ctx: Context) -> Step:
    """Ask what to look for."""
    text = ctx.t.gettext("Write a title or an author, or a part of one (Latin or Cyrillic).")
    return Step(LibraryState.SEARCH, {}, [Reply(text, column([back_button(ctx)]))])


def search_words(text: str) -> list[str]:
    """The words to look for: normalised, at most ``SEARCH_WORDS``."""
    return normalise(text).split()[:SEARCH_WORDS]


async def search(ctx: Context, text: str, *, suggested: int = 0) -> Step | None:
    """The titles whose title or authors hold every word written; the next search may follow.

    ``suggested``: how many suggested titles were found as well (then "nothing" is not said).
    """
    words = search_words(text)
    if not words:
        return None
    _ = ctx.t.gettext
    found = await library.search(ctx.conn, words, LIST_LIMIT + 1)
    if not found and suggested:
        return Step(LibraryState.SEARCH, {}, [])
    if not found:
        text = _("Nothing found for «{query}». Try another word, or go back to the library.",
                 query=text.strip()[:100])  # fmt: skip
        return Step(LibraryState.SEARCH, {}, [Reply(text, column([back_button(ctx)]))])
    return Step(LibraryState.SEARCH, {}, [title_list(ctx, _("Found:"), found)])


async def contacts(ctx: Context) -> Step:
    """Opening hours, address and contacts from the municipality file."""
    _ = ctx.t.gettext
    info = ctx.municipality.library
    if info is None:
        text = _("The library has not given its details yet.")
    else:
        # The file is written in Cyrillic: a reader of another script gets it in Latin.
        hours = ctx.t.name(info.hours)
        lines = [f"📚 {ctx.t.name(info.name)}", "🕒 " + _("Open: {hours}", hours=hours)]
        lines += [f"{icon} {value}" for icon, value in (
            ("📍", ctx.t.name(info.address)), ("☎️", info.phone), ("✉️", info.email),
            ("🌐", info.website),
        ) if value]  # fmt: skip
        text = "\n".join(lines)
    return Step(LibraryState.HOME, {}, [Reply(text, column([back_button(ctx)]))])


async def events(ctx: Context) -> Step:
    """The library's coming events, the nearest first."""
    _ = ctx.t.gettext
    info = ctx.municipality.library
    stored = await library.events_from(ctx.conn, ctx.now, LIST_LIMIT)
    announced = [(e.starts_at, e.title, e.place, "") for e in stored]
    from_file = [
        (e.starts_at, e.title, e.place, e.description)
        for e in (info.events if info else ())
        if e.starts_at >= ctx.now
    ]
    coming = sorted([*from_file, *announced], key=lambda e: e[0])[:LIST_LIMIT]
    if not coming:
        text = _("No library events are announced now.")
    else:
        lines = [_("Coming library events:")]
        for starts_at, title, place, description in coming:
            when = ctx.t.datetime(starts_at)
            title, place, description = (ctx.t.name(x) for x in (title, place, description))
            lines.append("\n".join(x for x in (f"🎭 {title}", f"🕒 {when}, {place}",
                                               description) if x))  # fmt: skip
        text = "\n\n".join(lines)
    return Step(LibraryState.HOME, {}, [Reply(text, column([back_button(ctx)]))])
