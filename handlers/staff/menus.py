"""A staff member's own command menu: their private chat lists the commands they may use.

The messenger's menus for all private chats list the residents' commands, and those for groups
(the staff chats) the staff commands. A staff member writing to the bot privately gets a menu of
their chat's own, in their language and script: set at start-up, when /staff add or remove changes
their role, and when they choose a language; taken away when they stop being staff. It goes out
as a reply (``Reply.menu``) through the outbox, like every other effect of a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.events import CommandMenu, MenuCommand, Outgoing, Reply
from handlers.flow import Role
from handlers.i18n import translator
from storage import staff, users

if TYPE_CHECKING:
    import aiosqlite

    from handlers.context import Context
    from handlers.flow import Registry
    from handlers.municipality import Municipality

MENU_LIMIT = 100  # commands in one Telegram menu
DESCRIPTION_LIMIT = 256


def command_menu(registry: Registry, role: str, language: str) -> CommandMenu:
    """The menu of a holder of ``role`` in their private chat: the residents' listed commands
    and the staff commands the role may use. None for a resident (the menu of all private chats
    serves them): their chat's own menu is taken away."""
    if role == Role.RESIDENT:
        return CommandMenu()
    _ = translator(language).gettext
    # The residents' part as in every private chat, then what the role adds.
    listed = [c for c in registry.commands if c.listed and c.role is Role.RESIDENT]
    listed += [
        c for c in registry.commands
        if c.help and c.role is not Role.RESIDENT and c.role.admits_role(role)
    ]  # fmt: skip
    return CommandMenu(
        tuple(MenuCommand(c.name, _(c.help)[:DESCRIPTION_LIMIT]) for c in listed[:MENU_LIMIT])
    )


async def menu_of(ctx: Context, channel: str, external_id: str, role: str) -> Outgoing:
    """The message that sets the menu of someone whose role is now ``role``, in their language.

    Someone who has not written yet is addressed by their user id: on Telegram and Viber a
    private chat's id is its user's.
    """
    known = await users.load_conversation(ctx.conn, channel, external_id)
    chat_id = known.user.chat_id if known else external_id
    language = (known.user.language if known else None) or ctx.municipality.languages[0]
    return Outgoing(channel, chat_id, Reply("", menu=command_menu(ctx.registry, role, language)))


def own_menu(ctx: Context, language: str) -> list[Outgoing]:
    """The message that sets the acting staff member's own menu in ``language`` (none for a
    resident: the menu of all private chats is theirs)."""
    user = ctx.user
    if user.role == Role.RESIDENT or not user.chat_id:
        return []
    menu = command_menu(ctx.registry, user.role, language)
    return [Outgoing(user.channel, user.chat_id, Reply("", menu=menu))]


async def staff_menus(
    conn: aiosqlite.Connection, municipality: Municipality, registry: Registry, channel: str
) -> list[tuple[str, CommandMenu]]:
    """Every staff member's private chat on ``channel`` with its menu (set at start-up): those
    who have written, those added with /staff add, and the municipality file's."""
    default = municipality.languages[0]
    known = await staff.chats_on(conn, channel)
    menus = [
        (c.chat_id or c.external_id, command_menu(registry, c.role, c.language or default))
        for c in known
    ]
    seen = {c.external_id for c in known}
    menus += [
        (m.user_id, command_menu(registry, m.role, default))
        for m in municipality.staff
        if m.messenger == channel and m.user_id not in seen
    ]
    return menus
