"""The library's flow: its states, steps, buttons, commands, main-menu entry and jobs."""

from __future__ import annotations

from handlers import engine
from handlers.context import Context, Step
from handlers.events import File, Text
from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Job, Role, Typed
from handlers.library import browse, chat_import, feed, follow, staff, suggest
from handlers.library.browse import LibraryAction, LibraryState, NewInSubject
from handlers.library.chat_import import ImportDecision
from handlers.library.follow import DigestMode, FollowValue, UnfollowAuthor
from handlers.library.suggest import SUGGEST_STATES, SupportSuggestion
from handlers.menu import Menu, MenuState, menu_reply
from handlers.texts import N_

SCREENS = {
    "home": browse.home,
    "new": browse.new_this_month,
    "search": browse.ask_search,
    "info": browse.contacts,
    "events": browse.events,
    "follow": follow.show_follows,
    "author": follow.ask_author,
    "authors": follow.show_authors,
    "suggest": suggest.start,
}


async def open_screen(ctx: Context, press: LibraryAction) -> Step | None:
    """A button of the library's screen (unknown data: the hint)."""
    screen = SCREENS.get(press.action)
    return await screen(ctx) if screen is not None else None


def leaves_for(args: str) -> bool:
    """The library's screen, a search and an import leave the step the user is at; the
    librarian's other work answers in place."""
    word = args.partition(" ")[0]
    return word not in staff.SUBCOMMANDS or word == "import"


async def library_command(ctx: Context, args: str) -> Step:
    """/library: the library's screen; the librarian's work after it (``/library suggestions``);
    any other words are a search (``/library Andrić``)."""
    word, _sep, rest = args.strip().partition(" ")
    if not word:
        return await browse.home(ctx)
    if word not in staff.SUBCOMMANDS:
        # A resident's words are what they look for: never logged, never "staff only".
        return await suggest.search_for(ctx, args) or await browse.home(ctx)
    if not staff.is_librarian(ctx):
        return engine.refuse(ctx, f"/library {word}")
    if word == "suggestions":
        return await staff.ranked(ctx, rest)
    if word in staff.ANSWER_WORDS:
        return await staff.answer(ctx, word, rest)
    if word == "event":
        return await staff.add_event(ctx, rest)
    return await chat_import.start(ctx)  # the last of the SUBCOMMANDS: "import"


IMPORT_STATES = frozenset({LibraryState.IMPORT, LibraryState.IMPORT_CONFIRM})


def cancel(ctx: Context) -> Step:
    """/cancel while suggesting or importing: nothing is stored."""
    if ctx.state in IMPORT_STATES:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx, ctx.t.gettext("Cancelled."))])
    return suggest.cancel(ctx)


FLOW = Flow(
    name="library",
    states=LibraryState,
    steps={
        (LibraryState.SEARCH, Text): suggest.search,
        (LibraryState.SUGGEST_TITLE, Text): suggest.write_title,
        (LibraryState.SUGGEST_AUTHOR, Text): suggest.write_author,
        (LibraryState.SUGGEST_ISBN, Text): suggest.write_isbn,
        (LibraryState.SUGGEST_WHY, Text): suggest.write_reason,
        (LibraryState.IMPORT, File): chat_import.receive,
        (LibraryState.IMPORT_CONFIRM, ImportDecision): chat_import.decide,
        (LibraryState.AUTHOR, Text): follow.add_author,
    },
    hints={
        LibraryState.HOME: N_("Please choose one of the library's options."),
        LibraryState.SEARCH: N_("Please write a title or an author as a text message."),
        LibraryState.AUTHOR: N_("Please write the author's name as a text message."),
        **{
            state: N_("Please answer the question as a text message, or /cancel.")
            for state in SUGGEST_STATES
        },
        LibraryState.IMPORT: N_("Please send the file as a document, or /cancel."),
        LibraryState.IMPORT_CONFIRM: N_("Please import or cancel with the buttons."),
    },
    prompts={
        LibraryState.HOME: lambda ctx: [browse.home_reply(ctx)],
        LibraryState.SEARCH: lambda ctx: [browse.home_reply(ctx)],
        LibraryState.AUTHOR: lambda ctx: [browse.home_reply(ctx)],
        **{state: suggest.prompt for state in SUGGEST_STATES},
        LibraryState.IMPORT: lambda ctx: [],
        LibraryState.IMPORT_CONFIRM: lambda ctx: [],
    },
    anywhere={
        LibraryAction: Anywhere(open_screen),
        NewInSubject: Anywhere(browse.new_in_subject),
        FollowValue: Anywhere(follow.toggle_value),
        UnfollowAuthor: Anywhere(follow.stop_author),
        DigestMode: Anywhere(follow.choose_mode),
        SupportSuggestion: Anywhere(suggest.support),
    },
    commands=(
        CommandSpec(
            "library",
            library_command,
            help=N_("the town library: new titles, search, hours"),
            listed=True,
            leaves=leaves_for,
        ),
    ),
    entries=(Entry(N_("📚 Library"), Menu("library"), browse.home, order=35),),
    jobs=(
        Job("library-digest", follow.send_digests, seconds=300),
        Job("library-arrivals", staff.tell_arrivals, seconds=300),
        Job("library-suggestions-digest", staff.digest_for_librarians, seconds=300),
        Job("library-feed", feed.no_poll, seconds=1800, prepare=feed.prepare_poll),
    ),
    look_ups={(LibraryState.IMPORT, File): chat_import.read_file},
    typed={
        LibraryState.SUGGEST_TITLE: Typed(),
        LibraryState.SUGGEST_AUTHOR: Typed(),
        LibraryState.SUGGEST_ISBN: Typed(skip=True),
        LibraryState.SUGGEST_WHY: Typed(skip=True),
    },
    keeps=SUGGEST_STATES | IMPORT_STATES,
    cancel=cancel,
    state_roles={state: Role.LIBRARIAN for state in IMPORT_STATES},
)
