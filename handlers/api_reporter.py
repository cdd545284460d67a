"""Staff questions about a report filed through the Open311 API: its reporter is in no chat.

The question goes by e-mail (through the outbox, as the services' mail does) when the API
client sent an address with the person's consent; otherwise the operator is told at once that
it cannot reach them, and nothing is stored.
"""

from __future__ import annotations

from handlers.context import Context, Step
from handlers.events import Outgoing, Reply
from handlers.i18n import translator
from handlers.notices import API_CHANNEL, EMAIL_CHANNEL
from handlers.staff.operations import StaffError, keep
from storage import opendata, reports, users
from storage.reports import Report


async def ask_api_reporter(ctx: Context, report: Report, question: str) -> Step | None:
    """Ask the reporter of an API report by e-mail; None when the report came from chat."""
    resident = await users.load_conversation_by_id(ctx.conn, report.user_id)
    if resident is None or resident.user.channel != API_CHANNEL:
        return None
    client = resident.user.external_id
    address = await opendata.consented_email(ctx.conn, report.id)
    if address is None:
        raise StaffError(ctx.t.gettext(
            "{ref} was filed through {client} (Open311) without an e-mail address its reporter"
            " agreed to be written to: the question cannot reach them. Nothing was sent.",
            ref=report.ref, client=client))  # fmt: skip
    await reports.add_event(
        ctx.conn, report.id, "question", actor_id=ctx.user.id, now=ctx.now, text=question
    )
    t = translator(ctx.municipality.staff_language)  # the reporter's language is not known
    mail = Reply(
        t.gettext(
            "The municipality asks about your report {ref}:\n{question}\n\nPlease answer by"
            " replying to this e-mail.", ref=report.ref, question=question,
        ),
        subject=t.gettext("A question about your report {ref}", ref=report.ref),
    )  # fmt: skip
    told = ctx.t.gettext(
        "{ref} was filed through {client} (Open311): the question was sent by e-mail to its"
        " reporter. Their answer comes by e-mail, not in this chat.",
        ref=report.ref, client=client,
    )  # fmt: skip
    return keep(ctx, [Reply(told)], [Outgoing(EMAIL_CHANNEL, address, mail)])
