"""Social protection: the rights and services, who is entitled, the documents, where to apply."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.context import Context, Step, column
from handlers.events import Reply
from handlers.flow import Anywhere, ButtonData, CommandSpec, Entry, Flow
from handlers.menu import Menu, MenuState, main_menu_button
from handlers.social_guide import Office, SocialRight
from handlers.texts import N_


@dataclass(frozen=True, slots=True)
class SocialHome(ButtonData):
    """The list of rights and services."""

    prefix = "socg"


@dataclass(frozen=True, slots=True)
class ShowRight(ButtonData):
    """One right or service of social protection."""

    prefix = "socr"
    key: str


async def show_guide(ctx: Context, press: SocialHome | None = None) -> Step:
    """The rights and services, each a button."""
    del press
    _ = ctx.t.gettext
    guide = ctx.municipality.social
    if guide is None or not guide.rights:
        text = _("Information on social protection is not published here yet.")
        return Step(MenuState.MAIN, {}, [Reply(text, column([main_menu_button(ctx)]))])
    lang = ctx.t.language
    lines = [
        _("Rights and services of social protection. Choose one to see who is entitled, the"
          " documents and where to apply. The Centre for Social Work decides on every request."),
    ]  # fmt: skip
    if guide.example:
        lines.append(_("(Example content, to be checked by the municipality.)"))
    choices = [ShowRight(r.key).button(r.title.in_language(lang)) for r in guide.rights]
    keys = column([*choices, main_menu_button(ctx)])
    return Step(MenuState.MAIN, {}, [Reply("\n".join(lines), keys)])


def right_text(ctx: Context, right: SocialRight, office: Office) -> str:
    """A right with who is entitled, the documents and the office's contacts."""
    _ = ctx.t.gettext
    lang = ctx.t.language
    lines = [
        f"🤝 {right.title.in_language(lang)}",
        right.summary.in_language(lang),
        "",
        _("👥 Who is entitled:") + " " + right.who.in_language(lang),
        _("📄 Documents:") + " " + right.documents.in_language(lang),
        _("📍 Where to apply:")
        + f" {office.name.in_language(lang)}, "
        + office.address.in_language(lang),
        f"📞 {office.phone}",
        f"🕒 {office.hours.in_language(lang)}",
    ]
    if office.map_url:
        lines.append(f"🗺 {office.map_url}")
    if right.how is not None:
        lines += ["", right.how.in_language(lang)]
    return "\n".join(lines)


async def show_right(ctx: Context, press: ShowRight) -> Step | None:
    """One right or service."""
    guide = ctx.municipality.social
    right = next((r for r in guide.rights if r.key == press.key), None) if guide else None
    if guide is None or right is None:
        return None
    office = guide.offices[right.office]
    back = SocialHome().button(ctx.t.gettext("↩️ Social protection"))
    text = right_text(ctx, right, office)
    return Step(MenuState.MAIN, {}, [Reply(text, column([back, main_menu_button(ctx)]))])


async def _open(ctx: Context) -> Step:
    return await show_guide(ctx)


async def _command(ctx: Context, args: str = "") -> Step:
    del args
    return await show_guide(ctx)


FLOW = Flow(
    name="social",
    anywhere={SocialHome: Anywhere(show_guide), ShowRight: Anywhere(show_right)},
    commands=(
        CommandSpec(
            "social", _command, help=N_("rights and services of social protection"), listed=True
        ),
    ),
    entries=(Entry(N_("🤝 Social protection"), Menu("social"), _open, order=37),),
)
