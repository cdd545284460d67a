"""The admins' ``/budget`` command: import a document, open or close the consultation, answer."""

from __future__ import annotations

from handlers import engine
from handlers.budget import audit, consultation, proposal_list, staff
from handlers.context import Context, Step
from handlers.events import Reply


async def budget_command(ctx: Context, args: str) -> Step:
    """/budget import | consult YEAR FROM TO | consult close | proposals [answered] | history."""
    words = args.split()
    match words:
        case ["import", *_]:
            return await staff.start(ctx, args)
        case ["consult", *_]:
            return await consultation.consult(ctx, words[1:])
        case ["proposals"]:
            return await proposal_list.show(ctx, answered=False)
        case ["proposals", "answered"]:
            return await proposal_list.show(ctx, answered=True)
        case ["history"]:
            return await audit.history(ctx)
    usage = ctx.t.gettext(
        "Usage: /budget import, /budget consult YEAR FROM TO, /budget consult close,"
        " /budget proposals [answered], /budget history"
    )
    return engine.stay(ctx, [Reply(usage)])
