"""The keyboard of the screen a user is at now, for messages that bring none of their own.

On Viber the keyboard belongs to the last message: a notice without one (a report's new status,
staff's answer) would take away the buttons the resident was using, until they write again. The
channel asks here for the buttons of the resident's current state (the main menu when idle, the
current step's buttons in the middle of a flow) and sends them with such a message.
"""

from __future__ import annotations

import aiosqlite

from handlers import engine
from handlers.context import Context, Deps, Step
from handlers.events import Markup, Reply
from storage import users


def screen_markup(ctx: Context) -> Markup:
    """The markup that the current state shows: the last of its prompt's replies', with a typed
    step's Cancel (and Skip) after it.

    A one-off question (an interruption) without a prompt of its own shows only a typed step's
    buttons, a state that showed buttons of its own (a preview) shows them again, and any other
    state without one falls back to the main menu, as the engine's prompt does.
    """
    flow = ctx.registry.flow_of(ctx.state)
    ask = None
    if flow is not None and flow.states is not None:
        ask = flow.prompts.get(flow.states(ctx.state))
    kept = engine.shown_markup(ctx)
    if ask is None and kept is not None:  # a preview's buttons, kept by the engine
        return kept
    if ask is None and not engine.is_interruption(ctx):
        ask = ctx.registry.home_prompt
    replies = ask(ctx) if ask is not None else []
    shown = engine.with_typed_buttons(ctx, Step(ctx.state, ctx.draft, replies[-1:] or [Reply("")]))
    return shown.replies[-1].markup


class CurrentScreens:
    """``handlers.ports.Screens`` over a connection that sees committed data only."""

    def __init__(self, conn: aiosqlite.Connection, deps: Deps) -> None:
        self._conn = conn
        self._deps = deps

    async def markup(self, channel: str, chat_id: str) -> Markup:
        """The buttons of the screen of the user whose private chat this is (None: none)."""
        # A private chat's id is its user's id on the messengers that need this (Viber).
        conversation = await users.load_conversation(self._conn, channel, chat_id)
        if conversation is None:
            return None
        state = conversation.state
        if conversation.user.language is None or not state:
            state = self._deps.registry.first
        ctx = Context(
            deps=self._deps,
            conn=self._conn,
            user=conversation.user,
            state=state,
            draft=dict(conversation.draft),
            now=self._deps.clock.now(),
            chat_id=chat_id,
        )
        return screen_markup(ctx)
