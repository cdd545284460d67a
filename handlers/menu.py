"""First contact, the language choice, the main menu, help and cancel."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache

from handlers import engine
from handlers.context import Context, Step, column
from handlers.events import Button, Choices, RemoveKeyboard, Reply
from handlers.flow import Anywhere, ButtonData, CommandSpec, Entry, Flow, Registry, Role, StepAction
from handlers.i18n import LANGUAGES, translator
from handlers.staff.menus import own_menu
from handlers.texts import N_


class MenuState(StrEnum):
    """Where a user is outside any feature."""

    LANGUAGE = "menu:language"
    MAIN = "menu:main"


@dataclass(frozen=True, slots=True)
class Language(ButtonData):
    """A language and script to use."""

    prefix = "lang"
    code: str


@dataclass(frozen=True, slots=True)
class Menu(ButtonData):
    """A main-menu button; ``action`` names the entry (``main`` is the menu itself)."""

    prefix = "menu"
    action: str


MAIN = Menu("main")


def language_prompt(ctx: Context) -> list[Reply]:
    """Ask for a language in every language the municipality offers (the user has none yet)."""
    return [languages_question(ctx.municipality.languages)]


@lru_cache(maxsize=16)
def languages_question(offered: tuple[str, ...]) -> Reply:
    """The question in each offered language, a button per language (made once: every new
    user gets it)."""
    question = "\n".join(
        dict.fromkeys(
            translator(code).gettext("Choose your language and script:") for code in offered
        )
    )
    return Reply(question, column([Language(code).button(LANGUAGES[code]) for code in offered]))


def menu_reply(ctx: Context, text: str | None = None) -> Reply:
    """The main menu, built from the entries of every flow, under a message of its own."""
    text = text or ctx.t.gettext("What would you like to do?")
    return Reply(text, menu_choices(ctx.registry, ctx.t.language, ctx.user.role))


@lru_cache(maxsize=256)
def menu_choices(registry: Registry, language: str, role: str) -> Choices:
    """The main menu's buttons, made once per language and role (nothing else changes them;
    the registry is kept for the process, so it may be a key)."""
    _ = translator(language).gettext
    return column([e.data.button(_(e.label)) for e in registry.entries_for_role(role)])


def main_menu_button(ctx: Context) -> Button:
    """ "Main menu" under a list."""
    return MAIN.button(ctx.t.gettext("↩️ Main menu"))


def welcome(ctx: Context) -> Step:
    """Greet the user and show the menu."""
    _ = ctx.t.gettext
    name = ctx.municipality.name_in(ctx.t.language)
    text = _("Welcome to Moja opština, the bot of the municipality of {name}.", name=name)
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])


def first_welcome(ctx: Context) -> Step:
    """A new user's welcome: the menu, then what the flows offer once (the topics)."""
    step = welcome(ctx)
    step.replies.extend(reply for greet in ctx.registry.greetings for reply in greet(ctx))
    return step


def to_menu(ctx: Context, text: str | None = None) -> Step:
    """The main menu as the next step."""
    return Step(MenuState.MAIN, {}, [menu_reply(ctx, text)])


async def ask_language(ctx: Context, args: str = "") -> Step:
    """Offer the languages; the step the user was at waits (it is resumed after the choice)."""
    del args
    if ctx.state in ("", MenuState.LANGUAGE) or ctx.user.language is None:
        return Step(MenuState.LANGUAGE, {}, language_prompt(ctx))
    return engine.interrupt(ctx, MenuState.LANGUAGE, language_prompt(ctx), nest=True)


async def set_language(ctx: Context, choice: Language) -> Step:
    """Store the chosen language; go back to the step the user was at, or to the menu."""
    if choice.code not in ctx.municipality.languages:
        return Step(MenuState.LANGUAGE, ctx.draft, language_prompt(ctx))
    first = ctx.user.language is None
    ctx.user = replace(ctx.user, language=choice.code)
    done = Reply(ctx.t.gettext("Language set: {language}.", language=LANGUAGES[choice.code]))
    if not engine.is_interruption(ctx):
        step = first_welcome(ctx) if first else welcome(ctx)
        step = Step(step.state, step.draft, [done, *step.replies], step.outgoing)
    else:
        step = engine.resume(ctx, [done])
    step.language = choice.code
    step.outgoing += own_menu(ctx, choice.code)  # a staff member's menu, in the new language
    return step


def help_text(ctx: Context) -> Reply:
    """Explain what the bot does and list the commands this user may use."""
    _ = ctx.t.gettext
    intro = _(
        "This bot lets you report communal problems in {name}: potholes, street lights,"
        " garbage, leaks, stray animals and more. Describe the problem, add photos and the"
        " location, and you get a reference number. You will be told about every change.",
        name=ctx.municipality.name_in(ctx.t.language),
    )
    lines = [
        f"/{c.name} - {_(c.help)}"
        for c in ctx.registry.commands
        if c.help and c.role.admits(ctx.user)
    ]
    return Reply(intro + "\n\n" + "\n".join(lines))


async def show_help(ctx: Context, args: str = "") -> Step:
    """/help: the help, then the current question again."""
    del args
    return Step(ctx.state, ctx.draft, [help_text(ctx), *engine.prompt(ctx)])


async def help_from_menu(ctx: Context) -> Step:
    """The Help entry of the main menu."""
    return Step(MenuState.MAIN, {}, [help_text(ctx), menu_reply(ctx)])


async def start(ctx: Context, args: str = "") -> Step:
    """/start: the welcome and the main menu."""
    del args
    return welcome(ctx)


async def cancel(ctx: Context, args: str = "") -> Step:
    """/cancel: drop the one-off question, or what the current flow is doing."""
    del args
    if engine.is_interruption(ctx):
        return engine.resume(ctx, [Reply(ctx.t.gettext("Cancelled."))])
    flow = ctx.registry.flow_of(ctx.state)
    if flow is not None and flow.cancel is not None:
        return flow.cancel(ctx)
    return nothing_to_cancel(ctx)


def nothing_to_cancel(ctx: Context) -> Step:
    """/cancel with nothing to drop (the location keyboard may still be showing)."""
    text = ctx.t.gettext("There is nothing to cancel.")
    return Step(MenuState.MAIN, {}, [Reply(text, RemoveKeyboard()), menu_reply(ctx)])


async def open_menu(ctx: Context, choice: Menu) -> Step | None:
    """A main-menu button: the entry it names, if this user may use it."""
    if choice == MAIN:
        return to_menu(ctx)
    entry = ctx.registry.entry(choice)
    if entry is None or not entry.role.admits(ctx.user):
        return None
    return await entry.run(ctx)


async def _choose_language(ctx: Context) -> Step:
    return await ask_language(ctx)


FLOW = Flow(
    name="menu",
    states=MenuState,
    steps={(MenuState.LANGUAGE, Language): set_language},
    hints={
        MenuState.LANGUAGE: N_("Please choose a language with one of the buttons."),
        MenuState.MAIN: N_("Please choose one of the options below."),
    },
    prompts={MenuState.LANGUAGE: language_prompt, MenuState.MAIN: lambda ctx: [menu_reply(ctx)]},
    anywhere={
        Menu: Anywhere(open_menu),
        StepAction: Anywhere(engine.take_step_action, leaves=False),
    },
    commands=(
        CommandSpec("start", start, help=N_("main menu"), listed=True),
        CommandSpec("menu", start),
        CommandSpec("help", show_help, help=N_("this help"), listed=True, leaves=False),
        CommandSpec(
            "language", ask_language, help=N_("change the language"), listed=True, leaves=False
        ),
        CommandSpec(
            "cancel", cancel, help=N_("drop what you are doing"), listed=True, leaves=False
        ),
    ),
    entries=(
        Entry(N_("❓ Help"), Menu("help"), help_from_menu, order=90),
        Entry(N_("🌐 Language"), Menu("language"), _choose_language, order=95),
    ),
    role=Role.RESIDENT,
)
