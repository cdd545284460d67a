"""Titles residents miss: suggest one (title, author, ISBN, why), support another's, be told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.context import Context, Step, column
from handlers.events import Outgoing, Reply, Text
from handlers.flow import ButtonData
from handlers.i18n import Translator, translator
from handlers.library.browse import (
    LIST_LIMIT,
    LibraryState,
    back_button,
    describe,
    home_reply,
    search_words,
)
from handlers.library.browse import search as browse_search
from handlers.library.titles import InvalidIsbnError, isbn13, match_key
from handlers.menu import MenuState, menu_reply
from storage import library
from storage import library_suggestions as suggestions
from storage.library_suggestions import Suggestion, Supporter

MAX_FIELD = 200
MAX_REASON = 500
SKIP = "-"


@dataclass(frozen=True, slots=True)
class SupportSuggestion(ButtonData):
    """ "I want this too" under a suggested title."""

    prefix = "libsup"
    suggestion_id: int


def _ask(ctx: Context, state: LibraryState) -> list[Reply]:
    _ = ctx.t.gettext
    questions = {
        LibraryState.SUGGEST_TITLE: _("Which title is missing? Write its title. (/cancel to stop)"),
        LibraryState.SUGGEST_AUTHOR: _("Who wrote it?"),
        LibraryState.SUGGEST_ISBN: _("Its ISBN, if you know it (or - to skip)."),
        LibraryState.SUGGEST_WHY: _("Why should the library have it? (or - to skip)"),
    }
    return [Reply(questions[state])]


async def start(ctx: Context) -> Step:
    """Ask for the missing title."""
    return Step(LibraryState.SUGGEST_TITLE, {}, _ask(ctx, LibraryState.SUGGEST_TITLE))


def prompt(ctx: Context) -> list[Reply]:
    """The question of the current step again."""
    return _ask(ctx, LibraryState(ctx.state))


async def write_title(ctx: Context, event: Text) -> Step | None:
    """Take the title; ask for the author."""
    title = " ".join(event.text.split())[:MAX_FIELD]
    if not title:
        return None
    return Step(
        LibraryState.SUGGEST_AUTHOR, {"title": title}, _ask(ctx, LibraryState.SUGGEST_AUTHOR)
    )


async def write_author(ctx: Context, event: Text) -> Step | None:
    """Take the author; ask for the ISBN."""
    author = " ".join(event.text.split())[:MAX_FIELD]
    if not author:
        return None
    draft = {**ctx.draft, "author": author}
    return Step(LibraryState.SUGGEST_ISBN, draft, _ask(ctx, LibraryState.SUGGEST_ISBN))


async def write_isbn(ctx: Context, event: Text) -> Step | None:
    """Take the ISBN (or none); ask why."""
    raw = event.text.strip()
    isbn = None
    if raw != SKIP:
        try:
            isbn = isbn13(raw)
        except InvalidIsbnError:
            text = ctx.t.gettext("That is not a valid ISBN. Write it again, or - to skip.")
            return Step(ctx.state, ctx.draft, [Reply(text)])
    draft = {**ctx.draft, "isbn": isbn}
    return Step(LibraryState.SUGGEST_WHY, draft, _ask(ctx, LibraryState.SUGGEST_WHY))


async def write_reason(ctx: Context, event: Text) -> Step | None:
    """Take the reason and store the suggestion: merged with a similar one, or new."""
    raw = " ".join(event.text.split())
    if not raw or "title" not in ctx.draft:
        return None
    reason = None if raw == SKIP else raw[:MAX_REASON]
    title, author = str(ctx.draft["title"]), str(ctx.draft["author"])
    isbn = ctx.draft.get("isbn")
    key = match_key(title, author)
    _ = ctx.t.gettext
    have = await library.find(ctx.conn, isbn, key)
    if have is not None:
        text = (
            _("The library already has it:")
            + "\n\n"
            + describe(ctx.t, ctx.municipality.library, have)
        )
        return Step(MenuState.MAIN, {}, [Reply(text), menu_reply(ctx)])
    same = await suggestions.similar(ctx.conn, isbn, key)
    if same is None:
        number = await suggestions.create(
            ctx.conn, title, author, isbn, key, reason, ctx.user.id, ctx.now
        )
        text = _("Thank you! The library will see your suggestion (#{id}).", id=number)
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])
    await suggestions.support(ctx.conn, same.id, ctx.user.id, reason, ctx.now)
    fresh = await suggestions.get(ctx.conn, same.id)
    count = fresh.supporters if fresh else same.supporters
    text = ctx.t.ngettext(
        "Others asked for «{title}» too: {n} resident wants it now.",
        "Others asked for «{title}» too: {n} residents want it now.",
        count,
        title=same.title,
    )
    answered = answer_text(ctx.t, same) if same.status != suggestions.OPEN else None
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, f"{text}\n{answered}" if answered else text)])


async def support(ctx: Context, press: SupportSuggestion) -> Step | None:
    """ "I want this too"."""
    found = await suggestions.get(ctx.conn, press.suggestion_id)
    if found is None or found.status not in suggestions.SHOWN:
        return None
    await suggestions.support(ctx.conn, found.id, ctx.user.id, None, ctx.now)
    fresh = await suggestions.get(ctx.conn, found.id)
    count = fresh.supporters if fresh else found.supporters
    text = ctx.t.ngettext(
        "Counted: {n} resident wants «{title}».",
        "Counted: {n} residents want «{title}».",
        count,
        title=found.title,
    )
    return Step(ctx.state, ctx.draft, [Reply(text, column([back_button(ctx)]))])


async def search(ctx: Context, event: Text) -> Step | None:
    """The titles in the library and the suggested ones that hold every word written."""
    return await search_for(ctx, event.text)


async def search_for(ctx: Context, text: str) -> Step | None:
    """The search of ``text`` (written in the search step, or after /library)."""
    words = search_words(text)
    found = await suggestions.search(ctx.conn, words, suggestions.SHOWN, LIST_LIMIT)
    step = await browse_search(ctx, text, suggested=len(found))
    if step is None or not found:
        return step
    t = ctx.t
    choices = [
        SupportSuggestion(s.id).button(t.gettext("👍 I want «{title}» too", title=s.title[:30]))
        for s in found
    ]
    lines = [t.gettext("Suggested by residents:"), *(suggestion_line(t, s) for s in found)]
    step.replies.append(Reply("\n\n".join(lines), column([*choices, back_button(ctx)])))
    return step


def suggestion_line(t: Translator, s: Suggestion) -> str:
    """A suggested title, for residents: what it is, how many want it, where it stands."""
    status = {
        suggestions.OPEN: t.gettext("suggested"),
        suggestions.ORDERED: t.gettext("ordered"),
    }.get(s.status, "")
    wants = t.ngettext("{n} wants it", "{n} want it", s.supporters)
    return f"💡 {s.title} — {s.author}\n{wants} · {status}"


def answer_text(t: Translator, s: Suggestion) -> str | None:
    """What the library answered, as residents read it."""
    if s.status == suggestions.ORDERED:
        return t.gettext("The library has ordered «{title}».", title=s.title)
    if s.status == suggestions.AVAILABLE:
        return t.gettext(
            "«{title}» is already in the library: {link}", title=s.title, link=s.answer or ""
        )
    if s.status == suggestions.NOT_PLANNED:
        return t.gettext(
            "The library does not plan to acquire «{title}»: {reason}",
            title=s.title,
            reason=s.answer or "",
        )
    return None


def tell(people: list[Supporter], render: Callable[[Translator], Reply]) -> list[Outgoing]:
    """One message to each supporter, in their language."""
    return [Outgoing(p.channel, p.chat_id, render(translator(p.language))) for p in people]


def cancel(ctx: Context) -> Step:
    """/cancel while suggesting: nothing is stored."""
    if ctx.state not in SUGGEST_STATES:
        return Step(LibraryState.HOME, {}, [home_reply(ctx)])
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])


SUGGEST_STATES = frozenset(
    {LibraryState.SUGGEST_TITLE, LibraryState.SUGGEST_AUTHOR, LibraryState.SUGGEST_ISBN,
     LibraryState.SUGGEST_WHY}
)  # fmt: skip
