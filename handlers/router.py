"""Picks the handler for an event: a command, a button, or the current step."""

from __future__ import annotations

from collections.abc import Callable

from handlers import (
    announce,
    consultations,
    followup,
    menu,
    my_reports,
    notifications,
    report,
    staff,
)
from handlers.context import Context, Deps, Lookup, Step
from handlers.events import (
    Blocked,
    ButtonChoice,
    Command,
    Inbound,
    Location,
    Photo,
    Reply,
    Text,
)
from handlers.texts import N_
from storage import subscriptions, users

Prompt = Callable[[Context], list[Reply]]
PROMPTS: dict[str, Prompt] = {
    **report.PROMPTS,
    menu.LANGUAGE_STATE: menu.language_prompt,
    menu.MENU_STATE: lambda ctx: [menu.menu_reply(ctx)],
}

# What each step expects, said when something else arrives.
HINTS = {
    menu.LANGUAGE_STATE: N_("Please choose a language with one of the buttons."),
    menu.MENU_STATE: N_("Please choose one of the options below."),
    my_reports.MINE: N_("Please choose a report to see its details, or go back to the menu."),
    report.CATEGORY: N_("Please choose the kind of problem with one of the buttons."),
    report.DESCRIPTION: N_("Please describe the problem in a text message."),
    report.PHOTOS: N_(
        "Please send a photo of the problem, or press the button to go on without one."
    ),
    report.LOCATION: N_("Please share the location, or type the address as text."),
    report.ADDRESS: N_("Please answer with the buttons, or type another address."),
    report.SUMMARY: N_("Please confirm, edit or cancel the report with the buttons."),
    report.EDIT: N_("Please choose what you want to change with the buttons."),
    followup.ANSWER_STATE: N_("Please write your answer as a text message, or /cancel."),
    followup.COMMENT_STATE: N_("Please write your comment or send a photo, or /cancel."),
    staff.REPLY_STATE: N_("Please write the answer as a text message, or /cancel."),
    staff.FIX_PHOTO_STATE: N_("Please send the photo of the fix, or /cancel."),
    notifications.NOTIFY_STATE: N_("Please press a topic to turn it on or off."),
    consultations.LIST_STATE: N_("Please choose a consultation, or go back to the menu."),
    consultations.COMMENT_STATE: N_("Please write your comment as a text message, or /cancel."),
    announce.WRITE_STATE: N_("Please write the announcement as a text message, or /cancel."),
    announce.CONFIRM_STATE: N_("Please send or cancel the announcement with the buttons."),
    consultations.CONFIRM_STATE: N_("Please announce or cancel with the buttons."),
    **{
        state: N_("Please answer the question as a text message, or /cancel.")
        for state in consultations.WIZARD
    },
}
# States that carry an id after their prefix.
PREFIXED = (
    followup.ANSWER_STATE,
    followup.COMMENT_STATE,
    staff.REPLY_STATE,
    staff.FIX_PHOTO_STATE,
    consultations.COMMENT_STATE,
    announce.WRITE_STATE,
)
# Buttons that work from every state outside a report being written.
GLOBAL_BUTTONS = ("sub:", "cons:", "cr:", "ca:", "cc:", "mycom", "fix:")


def state_kind(state: str) -> str:
    """The state without the report id of a prefixed state."""
    return next((p for p in PREFIXED if state.startswith(p)), state)


async def look_up(deps: Deps, state: str, event: Inbound) -> Lookup | None:
    """Do an event's slow work (network, disk) before the dispatcher's transaction."""
    return await report.look_up(deps, state, event)


async def handle(ctx: Context, event: Inbound) -> Step:
    """Answer one event."""
    if isinstance(event, Blocked):
        await users.mark_unreachable(ctx.conn, ctx.user.channel, ctx.user.chat_id)
        await subscriptions.unsubscribe_all(ctx.conn, ctx.user.id)
        return Step(ctx.state, ctx.draft, [])
    if event.sender.group:
        return await in_group(ctx, event)
    if isinstance(event, Command):
        return await run_command(ctx, event)
    if isinstance(event, ButtonChoice) and event.data.startswith(("st:", "rj:")):
        return await staff.press(ctx, event) or explain(ctx)
    if ctx.user.language is None or not ctx.state:
        if isinstance(event, ButtonChoice) and event.data.startswith("lang:"):
            return menu.set_language(ctx, event, prompt)
        return Step(menu.LANGUAGE_STATE, {}, menu.language_prompt(ctx))
    step = await _by_state(ctx, event)
    return step if step is not None else explain(ctx)


async def in_group(ctx: Context, event: Inbound) -> Step:
    """In a staff chat only staff commands, card buttons and requested replies count."""
    nothing = Step(ctx.state, ctx.draft, [])
    match event:
        case Command() if event.name == "cancel" and state_kind(ctx.state) != ctx.state:
            return followup.resume(ctx, [Reply(ctx.t.gettext("Cancelled."))], lambda _: [])
        case Command() if event.name in staff.COMMANDS:
            return await staff.run(ctx, event)
        case ButtonChoice() if event.data.startswith(("st:", "rj:")):
            return await staff.press(ctx, event) or nothing
        case Text() if ctx.state.startswith(staff.REPLY_STATE):
            return await staff.reply_from_state(ctx, event)
        case Photo() if ctx.state.startswith(staff.FIX_PHOTO_STATE):
            return await staff.fix_photo(ctx, event)
    return nothing


async def _global_button(ctx: Context, event: ButtonChoice) -> Step | None:
    data = event.data
    if data.startswith("fix:"):
        return await followup.answer_fix(ctx, event, prompt)
    if ctx.state.startswith("report:"):
        return in_progress(ctx)
    if state_kind(ctx.state) not in (ctx.state, staff.FIX_PHOTO_STATE):
        return explain(ctx)  # an answer or comment is awaited; an old keyboard must not drop it
    if data.startswith("sub:"):
        return await notifications.toggle_topic(ctx, event)
    if data.startswith("cons:"):
        return await consultations.show(ctx, event)
    if data.startswith(("cr:", "ca:")):
        return await consultations.take_part(ctx, event)
    if data.startswith("cc:"):
        return await consultations.start_comment(ctx, event)
    return await consultations.my_comments(ctx)


async def _resumed(ctx: Context, event: Inbound) -> Step | None:
    saved = ctx.draft.get("_resume") or {"state": menu.MENU_STATE, "draft": {}}
    ctx.state, ctx.draft = saved["state"] or menu.MENU_STATE, saved["draft"]
    return await _by_state(ctx, event)


async def _by_prefixed_state(ctx: Context, event: Inbound) -> Step | None:
    match state_kind(ctx.state), event:
        case staff.FIX_PHOTO_STATE, Photo():
            return await staff.fix_photo(ctx, event)
        case staff.FIX_PHOTO_STATE, _:
            # Not a photo: the staff member has moved on; so does the conversation.
            return await _resumed(ctx, event)
        case consultations.COMMENT_STATE, (Text() | Photo()):
            return await consultations.add_comment(ctx, event)
        case announce.WRITE_STATE, Text():
            return await announce.take_text(ctx, event)
        case staff.REPLY_STATE, Text():
            return await staff.reply_from_state(ctx, event)
        case followup.ANSWER_STATE, Text():
            return await followup.answer_question(ctx, event, prompt)
        case followup.COMMENT_STATE, (Text() | Photo()):
            return await followup.add_comment(ctx, event)
    return None


async def _by_state(ctx: Context, event: Inbound) -> Step | None:
    if isinstance(event, ButtonChoice) and event.data.startswith(GLOBAL_BUTTONS):
        return await _global_button(ctx, event)
    if state_kind(ctx.state) != ctx.state:
        return await _by_prefixed_state(ctx, event)
    match ctx.state, event:
        case menu.LANGUAGE_STATE, ButtonChoice():
            return menu.set_language(ctx, event, prompt)
        case _, ButtonChoice() if event.data.startswith("menu:"):
            return await choose_from_menu(ctx, event)
        case report.CATEGORY, ButtonChoice():
            return report.choose_category(ctx, event)
        case report.DESCRIPTION, Text():
            return report.describe(ctx, event)
        case report.PHOTOS, Photo():
            return report.add_photo(ctx, event)
        case report.PHOTOS, ButtonChoice():
            return report.finish_photos(ctx, event)
        case ((report.LOCATION | report.ADDRESS), Location()):
            return report.share_location(ctx, event)
        case ((report.LOCATION | report.ADDRESS), Text()):
            return report.type_address(ctx, event)
        case report.ADDRESS, ButtonChoice():
            return report.confirm_address(ctx, event)
        case report.SUMMARY, ButtonChoice():
            return await report.decide_summary(ctx, event)
        case report.EDIT, ButtonChoice():
            return report.choose_edit(ctx, event)
        case state, Text() if state in consultations.WIZARD:
            return await consultations.wizard_step(ctx, event)
        case consultations.CONFIRM_STATE, ButtonChoice():
            return await consultations.confirm(ctx, event)
        case announce.CONFIRM_STATE, ButtonChoice():
            return await announce.confirm(ctx, event)
        case my_reports.MINE, ButtonChoice() if event.data.startswith("cm:"):
            return await followup.start_comment(ctx, event)
        case ((my_reports.MINE | menu.MENU_STATE), ButtonChoice()) if event.data.startswith("rep:"):
            return await my_reports.show_report(ctx, event)
    return None


async def choose_from_menu(ctx: Context, event: ButtonChoice) -> Step | None:
    """Act on a main-menu button; in the middle of a report it only reminds where the user is."""
    if ctx.state.startswith("report:"):
        return in_progress(ctx)
    if state_kind(ctx.state) != ctx.state:
        return explain(ctx)
    match event.data:
        case "menu:report":
            return await report.start_report(ctx)
        case "menu:mine":
            return await my_reports.list_reports(ctx)
        case "menu:help":
            return Step(menu.MENU_STATE, {}, [menu.show_help(ctx), menu.menu_reply(ctx)])
        case "menu:language":
            return menu.ask_language(ctx)
        case "menu:notify":
            return await notifications.show_topics(ctx)
        case "menu:consult":
            return await consultations.list_current(ctx)
        case "menu:main":
            return Step(menu.MENU_STATE, {}, [menu.menu_reply(ctx)])
    return None


async def run_command(ctx: Context, event: Command) -> Step:
    """Run a command that works from anywhere."""
    _ = ctx.t.gettext
    in_report = ctx.state.startswith("report:")
    if event.name in staff.COMMANDS:
        return await staff.run(ctx, event)
    if ctx.user.language is None:
        return Step(menu.LANGUAGE_STATE, {}, menu.language_prompt(ctx))
    if event.name == "cancel" and state_kind(ctx.state) != ctx.state:
        return followup.resume(ctx, [Reply(_("Cancelled."))], prompt)
    if event.name == "cancel" and (
        ctx.state.startswith("cwiz:") or ctx.state == announce.CONFIRM_STATE
    ):
        return Step(menu.MENU_STATE, {}, [menu.menu_reply(ctx, _("Cancelled."))])
    match event.name:
        case "start" | "menu":
            return in_progress(ctx) if in_report else menu.welcome(ctx)
        case "help":
            return Step(ctx.state, ctx.draft, [menu.show_help(ctx), *prompt(ctx)])
        case "language":
            return menu.ask_language(ctx)
        case "subscribe" | "notifications":
            return await notifications.show_topics(ctx)
        case "unsubscribe":
            return await notifications.unsubscribe(ctx)
        case "consultations":
            return await consultations.list_current(ctx)
        case "cancel":
            # The location keyboard may be showing; the menu's choices cannot take it away.
            text = _("The report was cancelled.") if in_report else _("There is nothing to cancel.")
            return Step(menu.MENU_STATE, {}, [Reply(text, keyboard="remove"), menu.menu_reply(ctx)])
    unknown = Reply(_("I do not know the command /{name}.", name=event.name[:32]))
    return Step(ctx.state, ctx.draft, [unknown, *explain(ctx).replies])


def in_progress(ctx: Context) -> Step:
    """Remind a resident of the report they are writing."""
    text = ctx.t.gettext(
        "You have a report in progress. Continue below, or send /cancel to drop it."
    )
    return Step(ctx.state, ctx.draft, [Reply(text), *prompt(ctx)])


def prompt(ctx: Context) -> list[Reply]:
    """Ask the question of the current step again."""
    if state_kind(ctx.state) != ctx.state:
        return []  # the hint of an answer, comment or reply says all there is to say
    ask = PROMPTS.get(ctx.state)
    return ask(ctx) if ask else [menu.menu_reply(ctx)]


def explain(ctx: Context) -> Step:
    """Say what the current step expects, and ask again."""
    kind = state_kind(ctx.state)
    if kind not in HINTS:
        ctx.state, kind = menu.MENU_STATE, menu.MENU_STATE
    hint = ctx.t.gettext(HINTS[kind])
    return Step(ctx.state, ctx.draft, [Reply(hint), *prompt(ctx)])
