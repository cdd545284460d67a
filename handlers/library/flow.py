"""The library's flow: its states, steps, buttons, commands, main-menu entry and jobs."""

from __future__ import annotations

from handlers.context import Context, Step
from handlers.events import Text
from handlers.flow import Anywhere, CommandSpec, Entry, Flow, Job
from handlers.library import browse, follow
from handlers.library.browse import LibraryAction, LibraryState, NewInSubject
from handlers.library.follow import DigestMode, FollowValue, UnfollowAuthor
from handlers.menu import Menu
from handlers.texts import N_

SCREENS = {
    "home": browse.home,
    "new": browse.new_this_month,
    "search": browse.ask_search,
    "info": browse.contacts,
    "events": browse.events,
    "follow": follow.show_follows,
    "author": follow.ask_author,
}


async def open_screen(ctx: Context, press: LibraryAction) -> Step | None:
    """A button of the library's screen (unknown data: the hint)."""
    screen = SCREENS.get(press.action)
    return await screen(ctx) if screen is not None else None


async def library_command(ctx: Context, args: str) -> Step:
    """/library: the library's screen."""
    del args
    return await browse.home(ctx)


FLOW = Flow(
    name="library",
    states=LibraryState,
    steps={
        (LibraryState.SEARCH, Text): browse.search,
        (LibraryState.AUTHOR, Text): follow.add_author,
    },
    hints={
        LibraryState.HOME: N_("Please choose one of the library's options."),
        LibraryState.SEARCH: N_("Please write a title or an author as a text message."),
        LibraryState.AUTHOR: N_("Please write the author's name as a text message."),
    },
    prompts={
        LibraryState.HOME: lambda ctx: [browse.home_reply(ctx)],
        LibraryState.SEARCH: lambda ctx: [browse.home_reply(ctx)],
        LibraryState.AUTHOR: lambda ctx: [browse.home_reply(ctx)],
    },
    anywhere={
        LibraryAction: Anywhere(open_screen),
        NewInSubject: Anywhere(browse.new_in_subject),
        FollowValue: Anywhere(follow.toggle_value),
        UnfollowAuthor: Anywhere(follow.stop_author),
        DigestMode: Anywhere(follow.choose_mode),
    },
    commands=(
        CommandSpec(
            "library",
            library_command,
            help=N_("the town library: new titles, search, hours"),
            listed=True,
        ),
    ),
    entries=(Entry(N_("📚 Library"), Menu("library"), browse.home, order=35),),
    jobs=(Job("library-digest", follow.send_digests, seconds=300),),
)
