"""The admins' ``/budget`` command: import a document, open or close the consultation, answer."""

from __future__ import annotations

from handlers import engine
from handlers.budget import consultation, staff
from handlers.context import Context, Step
from handlers.events import Reply


async def budget_command(ctx: Context, args: str) -> Step:
    """/budget import | consult YEAR FROM TO | consult close | proposals."""
    words = args.split()
    match words[:1]:
        case ["import"]:
            return await staff.start(ctx, args)
        case ["consult"]:
            return await consultation.consult(ctx, words[1:])
        case ["proposals"]:
            return await consultation.proposals(ctx)
    usage = ctx.t.gettext(
        "Usage: /budget import, /budget consult YEAR FROM TO, /budget consult close,"
        " /budget proposals"
    )
    return engine.stay(ctx, [Reply(usage)])
