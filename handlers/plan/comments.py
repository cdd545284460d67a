"""Residents comment on a measure or ask about it; the measure's responsible staff answer.

The comment goes to the admins and to the operators of the measure's service, in private; only
the resident gets the answer. Neither is published.
"""

from __future__ import annotations

from enum import StrEnum

from handlers import engine
from handlers.context import Context, Step, parse_id
from handlers.events import Outgoing, Reply, Text
from handlers.i18n import translator
from handlers.menu import MenuState, menu_reply
from handlers.plan.buttons import CommentOnMeasure
from handlers.plan.config import published_measure
from handlers.plan.staff import may_change
from handlers.plan.views import heading, with_plan
from storage import plan as store
from storage import users

MAX_TEXT = 2000


class PlanState(StrEnum):
    """A resident writing on a measure; an admin importing the plan file, then confirming."""

    COMMENT = "plan:comment"
    IMPORT = "plan:import"
    IMPORT_CONFIRM = "plan:import_confirm"


async def start_comment(ctx: Context, press: CommentOnMeasure) -> Step | None:
    """Ask for the comment or question; what the resident was doing waits."""
    m = await published_measure(ctx.conn, ctx.municipality.plan, press.measure_id)
    if m is None:
        return None
    text = ctx.t.gettext(
        "Write your comment or question on {measure}. The staff responsible for it will answer."
        " (/cancel to stop)",
        measure=heading(ctx.t, m),
    )
    ctx.state, ctx.draft = MenuState.MAIN, {}
    return engine.interrupt(ctx, PlanState.COMMENT, [Reply(text)], measure_id=m.id)


async def add_comment(ctx: Context, event: Text) -> Step | None:
    """Store the comment and send it to the measure's responsible staff."""
    raw = ctx.draft.get("measure_id")
    plans = ctx.municipality.plan
    m = await published_measure(ctx.conn, plans, raw) if isinstance(raw, int) else None
    if m is None:
        return Step(MenuState.MAIN, {}, [menu_reply(ctx)])
    text = event.text.strip()[:MAX_TEXT]
    if not text:
        return None
    comment_id = await store.add_comment(ctx.conn, m.id, ctx.user.id, text, ctx.now)
    done = ctx.t.gettext("Thank you! Your comment was sent to the staff responsible for it.")
    step = Step(MenuState.MAIN, {}, [menu_reply(ctx, done)])
    for _id, channel, chat, language in await store.responsible_staff(ctx.conn, m.service):
        t = translator(language)
        notice = t.gettext(
            "💬 Comment #{id} on {measure}:\n{text}\n\nAnswer with /plananswer {id} TEXT",
            id=comment_id, measure=with_plan(t, ctx.municipality.plan, m), text=text,
        )  # fmt: skip
        step.outgoing.append(Outgoing(channel, chat, Reply(notice), about=ctx.user.id))
    return step


async def answer_command(ctx: Context, args: str) -> Step:
    """/plananswer ID TEXT: the answer to a resident's comment on a measure."""
    _ = ctx.t.gettext
    raw_id, _sep, text = args.strip().partition(" ")
    comment_id = parse_id(raw_id)
    comment = await store.get_comment(ctx.conn, comment_id) if comment_id is not None else None
    m = await store.get(ctx.conn, comment.measure_id) if comment is not None else None
    usage = _("Usage: /plananswer ID TEXT (the number of a comment on a measure)")
    if comment is None or m is None:
        return Step(ctx.state, ctx.draft, [Reply(usage)])
    # Who may answer first: staff who may not learn nothing more about the comment or its plan.
    if not may_change(ctx, m):
        text = _("Only an admin or the measure's service may change it.")
        return Step(ctx.state, ctx.draft, [Reply(text)])
    if ctx.municipality.plan.get(m.plan) is None:  # its plan was taken out of the file
        text = _(
            "Comment #{id} is on a measure of a plan that the municipality no longer publishes;"
            " it cannot be answered here.",
            id=comment.id,
        )
        return Step(ctx.state, ctx.draft, [Reply(text)])
    if not text.strip():
        return Step(ctx.state, ctx.draft, [Reply(usage)])
    answer = text.strip()[:MAX_TEXT]
    await store.answer_comment(ctx.conn, comment.id, answer, ctx.user.id, ctx.now)
    step = Step(ctx.state, ctx.draft, [Reply(_("The answer was sent."))])
    resident = await users.load_conversation_by_id(ctx.conn, comment.user_id)
    if resident is not None and not resident.user.unreachable:
        t = translator(resident.user.language)
        notice = t.gettext(
            "The municipality answered your comment on {measure}:\n{text}",
            measure=with_plan(t, ctx.municipality.plan, m), text=answer,
        )  # fmt: skip
        step.outgoing = [Outgoing(resident.user.channel, resident.user.chat_id, Reply(notice))]
    return step
