"""First contact, the language choice, the main menu, help and cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from handlers.context import Context, Step, column
from handlers.events import ButtonChoice, Reply
from handlers.i18n import LANGUAGES, translator

LANGUAGE_STATE = "language"
MENU_STATE = "menu"


def language_prompt(ctx: Context) -> list[Reply]:
    """Ask for a language in every language the municipality offers (the user has none yet)."""
    offered = ctx.municipality.languages
    question = "\n".join(
        dict.fromkeys(
            translator(code).gettext("Choose your language and script:") for code in offered
        )
    )
    return [Reply(question, column([(LANGUAGES[code], f"lang:{code}") for code in offered]))]


def menu_reply(ctx: Context, text: str | None = None) -> Reply:
    """Return the main menu, optionally under a message of its own."""
    _ = ctx.t.gettext
    return Reply(
        text or _("What would you like to do?"),
        column(
            [
                (_("📝 Report a problem"), "menu:report"),
                (_("📋 My reports"), "menu:mine"),
                (_("🗣 Public consultations"), "menu:consult"),
                (_("🔔 Notifications"), "menu:notify"),
                (_("❓ Help"), "menu:help"),
                (_("🌐 Language"), "menu:language"),
            ]
        ),
    )


def welcome(ctx: Context) -> Step:
    """Greet the user and show the menu."""
    _ = ctx.t.gettext
    name = ctx.municipality.name_in(ctx.t.language)
    text = _("Welcome to Moja opština, the bot of the municipality of {name}.", name=name)
    return Step(MENU_STATE, {}, [menu_reply(ctx, text)])


def ask_language(ctx: Context) -> Step:
    """Offer the languages, remembering where to come back to."""
    draft = dict(ctx.draft)
    if ctx.state not in ("", LANGUAGE_STATE):
        draft["_return"] = ctx.state
    return Step(LANGUAGE_STATE, draft, language_prompt(ctx))


def set_language(ctx: Context, event: ButtonChoice, ask: Callable[[Context], list[Reply]]) -> Step:
    """Store the chosen language; go back to the step the user was at, or to the menu."""
    code = event.data.removeprefix("lang:")
    if not event.data.startswith("lang:") or code not in ctx.municipality.languages:
        return Step(LANGUAGE_STATE, ctx.draft, language_prompt(ctx))
    ctx.user = replace(ctx.user, language=code)
    done = Reply(ctx.t.gettext("Language set: {language}.", language=LANGUAGES[code]))
    draft = dict(ctx.draft)
    back = draft.pop("_return", None)
    if not back:
        step = welcome(ctx)
        return Step(step.state, step.draft, [done, *step.replies], language=code)
    ctx.state, ctx.draft = back, draft
    return Step(back, draft, [done, *ask(ctx)], language=code)


def show_help(ctx: Context) -> Reply:
    """Explain what the bot does and the commands that work everywhere."""
    _ = ctx.t.gettext
    return Reply(
        _(
            "This bot lets you report communal problems in {name}: potholes, street lights,"
            " garbage, leaks, stray animals and more. Describe the problem, add photos and the"
            " location, and you get a reference number. You will be told about every change.\n\n"
            "/start - main menu\n/help - this help\n/language - change the language\n"
            "/cancel - drop the report you are writing",
            name=ctx.municipality.name_in(ctx.t.language),
        )
    )
