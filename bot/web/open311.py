"""The Open311 GeoReport v2 server under /open311/v2/, with FixMyStreet's read extensions.

Reads go through a read-only connection of their own (committed data only, never the writer's);
a POST files the report in one write transaction with its card and e-mail, as chat does.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import aiosqlite
from aiohttp import web

from bot.app import App
from bot.settings import Settings
from bot.web import media
from bot.web.formats import ApiError, error_response, item_text, respond, respond_items
from handlers.bodies import shared_note
from handlers.i18n import Translator, translator
from handlers.municipality import CATEGORY_IDS, Municipality
from handlers.opendata import (
    Filed,
    Submission,
    SubmissionError,
    UnknownServiceError,
    check_submission,
    file_submission,
    responsible,
)
from handlers.photos import MAX_PHOTO_BYTES
from handlers.ports import GeocoderUnavailableError
from handlers.report import MAX_DESCRIPTION
from handlers.texts import category_name, event_name, status_name
from storage import opendata, outbox, status
from storage.opendata import Contact, PublicNote, PublicReport, RequestQuery
from storage.photos import ImageTooLargeError, InvalidImageError
from storage.reports import NewPhoto
from storage.status import Status

log = logging.getLogger(__name__)
ROOT = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+00:00"  # when this API's description last changed
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
FORMAT = r"{fmt:(?:xml|json)}"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # one address, nothing a header could carry
# Our statuses as FixMyStreet names them in its updates.
FMS_STATUS = {
    "new": "open", "reopened": "open", "acknowledged": "investigating",
    "in_progress": "in_progress", "resolved": "fixed", "closed": "closed",
    "rejected": "no_further_action", "handed_off": "not_councils_responsibility",
}  # fmt: skip


class Answers:
    """The last answers to GET requests, kept until the database changes.

    The key holds SQLite's ``data_version`` of the reader (it changes when another connection
    commits) and the minute of the clock (the default 90 days end now), so an answer is never
    older than the last commit, nor than a minute for the windows that end now.
    """

    SIZE = 64

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, int, str], web.Response] = OrderedDict()

    def get(self, key: tuple[str, int, str]) -> web.Response | None:
        """A kept answer (a fresh copy: a response object is sent once)."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        self._kept.move_to_end(key)
        return copy_answer(kept)

    def put(self, key: tuple[str, int, str], response: web.Response) -> None:
        """Keep an answer."""
        self._kept[key] = response
        if len(self._kept) > self.SIZE:
            self._kept.popitem(last=False)


class Texts:
    """Each public report's published text, per format and with or without the extensions,
    kept with the report's revision (raised by the database with every change of the report,
    its history or its photos: migration 0025). A list fetches and writes only the reports whose
    revision moved; what is no longer public is not listed, so its text is never served."""

    SIZE = 40_000  # 10,000 reports in both formats, with and without the extensions

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, bool, int], tuple[int, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, fmt: str, extended: bool, report_id: int, revision: int) -> str | None:
        """The text of a report at this revision, if kept."""
        key = (fmt, extended, report_id)
        kept = self._kept.get(key)
        if kept is None or kept[0] != revision:
            return None
        self._kept.move_to_end(key)
        return kept[1]

    def put(self, fmt: str, extended: bool, report_id: int, revision: int, text: str) -> None:
        """Keep a report's text at a revision (it replaces the older one)."""
        key = (fmt, extended, report_id)
        self._kept[key] = (revision, text)
        self._kept.move_to_end(key)
        if len(self._kept) > self.SIZE:
            self._kept.popitem(last=False)


def copy_answer(response: web.Response) -> web.Response:
    """A new response with a kept one's body and type (aiohttp sends a response object once)."""
    copy = web.Response(body=response.body, status=response.status)
    copy.content_type = response.content_type
    copy.charset = response.charset
    return copy


@dataclass(slots=True)
class OpenData:
    """What the API needs: the bot's parts, its settings and a read-only connection."""

    app: App
    settings: Settings
    reader: aiosqlite.Connection | None = None
    _names: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    answers: Answers = field(default_factory=lambda: Answers())
    texts: Texts = field(default_factory=lambda: Texts())

    @property
    def zone(self) -> ZoneInfo:
        """The municipality's time zone (times are published in it)."""
        return ZoneInfo(self.m.timezone)

    def names(self, category: str, service: str) -> tuple[str, str]:
        """The published names of a category and a service (they change only with a restart)."""
        key = (category, service)
        found = self._names.get(key)
        if found is None:
            t = self.t
            found = (category_name(t, category), t.name(self.m.service_name(service)))
            self._names[key] = found
        return found

    def agency(self, report: PublicReport) -> str:
        """Who is responsible for a report (``responsible``; a service's name is kept)."""
        if report.status == Status.HANDED_OFF:
            return responsible(self.m, self.t, report)[1]
        return self.names(report.category, report.service)[1]

    @property
    def m(self) -> Municipality:
        """The municipality."""
        return self.app.deps.municipality

    @property
    def t(self) -> Translator:
        """Names are published in the municipality's first language."""
        return translator(self.m.staff_language)

    @property
    def conn(self) -> aiosqlite.Connection:
        """The read-only connection (open while the server runs)."""
        if self.reader is None:
            raise RuntimeError("the open data reader is not open")
        return self.reader

    async def open_reader(self, _: web.Application) -> AsyncIterator[None]:
        """Open the read-only connection for the server's life (an aiohttp cleanup context)."""
        uri = f"file:{self.settings.database}?mode=ro"
        self.reader = await aiosqlite.connect(uri, uri=True)
        try:
            yield
        finally:
            await self.reader.close()
            self.reader = None


Handler = Callable[[OpenData, web.Request, str], Awaitable[web.Response]]


def add_routes(routes: web.Application, settings: Settings, app: App) -> OpenData:
    """Serve the API (and the public photos) on the bot's web server."""
    data = OpenData(app, settings)
    routes.cleanup_ctx.append(data.open_reader)
    routes.middlewares.insert(0, api_errors)  # outermost: it sees a body too large to read too
    table: list[tuple[str, str, Handler]] = [
        ("GET", f"{ROOT}/discovery.{FORMAT}", discovery),
        ("GET", f"{ROOT}/services.{FORMAT}", services),
        ("GET", f"{ROOT}/services/{{code:[^/.]+}}.{FORMAT}", service_definition),
        ("GET", f"{ROOT}/requests.{FORMAT}", list_requests),
        ("POST", f"{ROOT}/requests.{FORMAT}", post_request),
        ("GET", f"{ROOT}/requests/{{ref:[^/.]+}}.{FORMAT}", one_request),
        ("GET", f"{ROOT}/tokens/{{token:[^/.]+}}.{FORMAT}", token),
        ("GET", f"{ROOT}/servicerequestupdates.{FORMAT}", updates),
    ]
    for method, path, handler in table:
        routes.router.add_route(method, path, _answering(data, handler))
    routes.router.add_get("/media/{sha:[0-9a-f]{64}}.jpg", _photo(data))
    return data


def _answering(data: OpenData, handler: Handler) -> Callable[[web.Request], Awaitable[Any]]:
    async def run(request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        key = None
        if request.method == "GET":
            key = (request.path_qs, await data_version(data.conn), minute(data))
            kept = data.answers.get(key)
            if kept is not None:
                return readable_anywhere(kept)
        try:
            check_jurisdiction(data.m, request)
            response = await handler(data, request, fmt)
        except ApiError as e:
            return error_response(fmt, e)
        if key is not None and response.status == 200:
            data.answers.put(key, response)
            return readable_anywhere(copy_answer(response))
        return response

    return run


@web.middleware
async def api_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """What aiohttp refuses by itself under the API (no such path, no such method, a body too
    large to read, a body that does not arrive in time) in Open311's error form: 404 for what
    does not exist, 408 (and the connection closed) for a late body, 400 for the rest."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or not request.path.startswith(ROOT + "/"):
            raise
        fmt = "json" if request.path.endswith(".json") else "xml"
        if e.status == 408:
            # A timeout, not a bad request: the client may send it again (its words say so).
            late = error_response(fmt, ApiError(408, e.text or e.reason))
            late.force_close()
            return late
        if e.status == 404:
            error = ApiError(404, "no such resource: see discovery.xml for the API's endpoints")
        elif e.status == 413:
            error = ApiError(
                400, f"the request is too large: a description has at most {MAX_DESCRIPTION:,}"
                " characters",
            )  # fmt: skip
        else:
            error = ApiError(400, e.reason)
        return error_response(fmt, error)


def readable_anywhere(response: web.Response) -> web.Response:
    """Public data that a page on another site (a city's dashboard) may read with JavaScript:
    a read answer carries no cookie or key, so any origin may have it (CORS)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def data_version(conn: aiosqlite.Connection) -> int:
    """SQLite's counter of commits by other connections, as this connection sees it."""
    rows = list(await conn.execute_fetchall("PRAGMA data_version"))
    return int(rows[0][0])


def minute(data: OpenData) -> str:
    """The clock's minute (an answer whose window ends now is kept that long at most)."""
    return data.app.deps.clock.now().strftime("%Y-%m-%dT%H:%M")


def check_jurisdiction(
    m: Municipality, request: web.Request, form: dict[str, str] | None = None
) -> None:
    """``jurisdiction_id`` is optional; when given (in the query, or in a POST's form) it must be
    this municipality's code."""
    given = _param(request, "jurisdiction_id", form)
    if given and given.upper() != m.code:
        raise ApiError(404, f"jurisdiction_id: this server serves only {m.code.lower()}")


def _values(request: web.Request, name: str) -> list[str]:
    """A parameter the spec lets be declared several times, each comma delimited
    (``status=open&status=closed``, ``service_code=a,b``): every value, empty ones left out."""
    given = request.query.getall(name, [])
    return [v.strip() for raw in given for v in raw.split(",") if v.strip()]


def _param(request: web.Request, name: str, form: dict[str, str] | None = None) -> str:
    """A parameter's value; sent empty is the same as not sent (the spec says so)."""
    source: Any = form if form is not None else request.query
    return str(source.get(name, "")).strip()


# Discovery and services.


async def discovery(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """Where the API is and what it speaks."""
    del request
    base = data.settings.base_url + ROOT
    document = {
        "changeset": CHANGESET,
        "contact": data.m.website,
        "key_service": data.t.gettext(
            "API keys for filing reports are given by the municipality: {website}",
            website=data.m.website,
        ),
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", document)


def _service(data: OpenData, code: str) -> dict[str, Any]:
    t = data.t
    agency = t.name(data.m.service_name(data.m.categories[code].service))
    return {
        "service_code": code,
        "service_name": category_name(t, code),
        "description": service_description(data, code),
        "metadata": False,
        "type": "realtime",
        "keywords": code.replace("_", ","),
        "group": agency,
    }


def service_description(data: OpenData, code: str) -> str:
    """The category's name and, where it is wholly or partly an outside body's, whose it is and
    what becomes of a report filed here (as a resident choosing it in chat is told)."""
    t = data.t
    name = category_name(t, code)
    body = data.m.body_for(code)
    if body is None:
        return "\n\n".join([name, *(shared_note(t, b) for b in data.m.bodies_sharing(code))])
    names = {"body": body.name_in(t), "contacts": body.contacts()}
    if body.forwards:
        said = t.gettext(
            "Not the municipality's job: {body} is responsible for it ({contacts}). Reports"
            " filed here are forwarded to them by e-mail.", **names,
        )  # fmt: skip
    else:
        said = t.gettext(
            "Not the municipality's job: {body} is responsible for it ({contacts}). Such"
            " reports are not taken here: please contact them directly.", **names,
        )  # fmt: skip
    return f"{name}\n\n{said}"


async def services(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """The report categories as services."""
    del request
    codes = [c for c in CATEGORY_IDS if c in data.m.categories]
    return respond(fmt, "services", [_service(data, c) for c in codes])


async def service_definition(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """A service's attributes: none beyond the description and the location."""
    code = request.match_info["code"]
    if code not in data.m.categories:
        raise ApiError(404, f"service_code {code[:40]}: no such service")
    return respond(fmt, "service_definition", {"service_code": code, "attributes": []})


# Reading reports.


def _time(data: OpenData, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(data.zone).isoformat(timespec="seconds")


def _media_url(data: OpenData, report: PublicReport) -> str | None:
    if report.photo_sha256 is None:
        return None
    return f"{data.settings.base_url}/media/{report.photo_sha256}.jpg"


def _note_text(t: Translator, note: PublicNote) -> str:
    if note.kind == "status" and note.new_status:
        named = status_name(t, note.new_status)
        return f"{named}: {note.text}" if note.text else named
    return note.text or event_name(t, note.kind)


def request_document(
    data: OpenData, report: PublicReport, notes: list[PublicNote], *, extended: bool
) -> dict[str, Any]:
    """One report as GeoReport v2 publishes it (``extended``: with Open311's extensions)."""
    t = data.t
    service_name, _ = data.names(report.category, report.service)
    document: dict[str, Any] = {
        "service_request_id": report.ref,
        "status": "open" if report.is_open else "closed",
        "status_notes": report.status_notes,
        "service_name": service_name,
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": data.agency(report),
        "service_notice": None,
        "requested_datetime": _time(data, report.created_at),
        "updated_datetime": _time(data, report.last_change),
        "expected_datetime": _time(data, report.sla_due_at) if report.is_open else None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.latitude,
        "long": report.longitude,
        "media_url": _media_url(data, report),
    }
    if extended:
        document["extended_attributes"] = {
            "status": report.status,
            "status_name": status_name(t, report.status),
            "acknowledged_datetime": _time(data, report.acknowledged_at),
            "resolved_datetime": _time(data, report.resolved_at),
        }
        document["notes"] = [
            {"datetime": _time(data, n.at), "description": _note_text(t, n), "type": n.kind}
            for n in notes
        ]
    return document


def _extended(request: web.Request) -> bool:
    return _param(request, "extensions").lower() == "true"


async def _documents(
    data: OpenData, found: list[PublicReport], *, extended: bool
) -> list[dict[str, Any]]:
    notes: dict[int, list[PublicNote]] = {}
    if extended:
        # Read after the reports: notes newer than a report's revision only make its kept text
        # newer than its key (rebuilt at the next change), never older.
        for note in await opendata.notes_of(data.conn, [r.id for r in found]):
            notes.setdefault(note.report_id, []).append(note)
    return [request_document(data, r, notes.get(r.id, []), extended=extended) for r in found]


async def request_texts(
    data: OpenData, listed: list[tuple[int, int]], fmt: str, *, extended: bool
) -> list[str]:
    """The published texts of the listed (id, revision) reports, in order: the kept ones as
    they are, the others fetched, written and kept."""
    kept = data.texts
    found = {i: kept.get(fmt, extended, i, revision) for i, revision in listed}
    missing = [i for i, text in found.items() if text is None]
    if missing:
        reports = await opendata.find_by_ids(data.conn, missing)
        documents = await _documents(data, reports, extended=extended)
        for report, document in zip(reports, documents, strict=True):
            text = item_text(fmt, "service_requests", document)
            kept.put(fmt, extended, report.id, report.revision, text)
            found[report.id] = text
    # A report made not public between the two reads is not found the second time: left out.
    return [text for text in found.values() if text is not None]


def parse_time(data: OpenData, name: str, raw: str) -> datetime | None:
    """A W3C date-time parameter; a time without a zone is the municipality's."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "+"))  # a "+" in a query is a space
    except ValueError:
        raise ApiError(400, f"{name}: not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(data.m.timezone))
    return moment


def _int(raw: str, name: str, default: int, highest: int) -> int:
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= highest:
        raise ApiError(400, f"{name}: a whole number from 1 to {highest}")
    return int(raw)


def request_query(data: OpenData, request: web.Request) -> RequestQuery:
    """The filters of GET requests, with the spec's defaults (the last 90 days, 1,000)."""
    now = data.app.deps.clock.now()
    start = parse_time(data, "start_date", _param(request, "start_date"))
    end = parse_time(data, "end_date", _param(request, "end_date"))
    span = timedelta(days=DEFAULT_DAYS)
    if start and end and end - start > span:
        raise ApiError(400, "start_date and end_date may be at most 90 days apart")
    if start and end and end < start:
        raise ApiError(400, "end_date is before start_date")
    end = end or (start + span if start else now)
    start = start or end - span
    wanted = [s.lower() for s in _values(request, "status")]
    if any(s not in ("open", "closed") for s in wanted):
        raise ApiError(400, "status: open or closed")
    statuses: tuple[str, ...] = ()
    if wanted and len(set(wanted)) == 1:
        closed = tuple(s for s in status.Status if s not in status.OPEN)
        statuses = status.OPEN if wanted[0] == "open" else closed
    size = _int(_param(request, "page_size"), "page_size", MAX_RESULTS, MAX_RESULTS)
    page = _int(_param(request, "page"), "page", 1, 1_000_000)
    return RequestQuery(
        start=start, end=end,
        refs=tuple(dict.fromkeys(r.upper() for r in _values(request, "service_request_id"))),
        categories=tuple(_values(request, "service_code")),
        statuses=statuses, limit=size, offset=(page - 1) * size,
    )  # fmt: skip


async def list_requests(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """GET requests: public reports by id, or by service, period and status."""
    listed = await opendata.listed_requests(data.conn, request_query(data, request))
    texts = await request_texts(data, listed, fmt, extended=_extended(request))
    return respond_items(fmt, "service_requests", texts)


async def one_request(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """GET requests/{id}: one public report, as a list of one."""
    ref = request.match_info["ref"]
    report = await opendata.find_request(data.conn, ref)
    if report is None:
        raise ApiError(404, f"service_request_id {ref[:40]}: no such request")
    documents = await _documents(data, [report], extended=_extended(request))
    return respond(fmt, "service_requests", documents)


async def token(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """GET tokens/{token}: the request a token stands for. A POST answers the id itself and gives
    no token now; the tokens given before (kept in open311_tokens) still answer."""
    given = request.match_info["token"]
    ref = await opendata.ref_of_token(data.conn, given)
    if ref is None:
        raise ApiError(404, "token: no such token")
    return respond(fmt, "service_requests", [{"service_request_id": ref, "token": given}])


async def updates(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """FixMyStreet's servicerequestupdates: public changes in a period (the last 90 days)."""
    now = data.app.deps.clock.now()
    start = parse_time(data, "start_date", _param(request, "start_date"))
    end = parse_time(data, "end_date", _param(request, "end_date")) or now
    start = start or end - timedelta(days=DEFAULT_DAYS)
    found = await opendata.updates_between(data.conn, start, end, MAX_RESULTS)
    document = [
        {
            "update_id": str(note.event_id),
            "service_request_id": ref,
            "status": FMS_STATUS.get(note.new_status or "", "open"),
            "updated_datetime": _time(data, note.at),
            "description": _note_text(data.t, note),
            "media_url": None,
        }
        for note, ref in found
    ]
    return respond(fmt, "service_requests_updates", document)


# Filing a report.


def _client_of(data: OpenData, key: str) -> str:
    """The client an API key is named for; 403 when there is none."""
    if not key:
        raise ApiError(403, "api_key: required to file a request")
    for client, known in data.settings.open311_api_keys:
        if hmac.compare_digest(key.encode(), known.encode()):
            return client
    raise ApiError(403, "api_key: not a valid key")


def _float(raw: str, name: str) -> float | None:
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ApiError(400, f"{name}: not a number") from None


async def post_request(data: OpenData, request: web.Request, fmt: str) -> web.Response:
    """POST requests: file a report for an API client, as a resident would in chat."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    check_jurisdiction(data.m, request, form)
    client = _client_of(data, _param(request, "api_key", form))
    submission = Submission(
        category=_param(request, "service_code", form),
        description=_param(request, "description", form),
        latitude=_float(_param(request, "lat", form), "lat"),
        longitude=_float(_param(request, "long", form), "long"),
        address=_param(request, "address_string", form)[:300] or None,
        contact=_contact(request, form),
    )
    if submission.contact.email and not EMAIL.fullmatch(submission.contact.email):
        raise ApiError(400, "email: not an e-mail address")
    try:
        check_submission(data.m, submission)
        submission = await _locate(data, submission)
        media = _param(request, "media_url", form)
        if media:
            submission = _with_photo(submission, await fetch_photo(data, media))
        filed = await _file(data, client, submission)
    except UnknownServiceError as e:
        raise ApiError(404, str(e)) from None
    except SubmissionError as e:
        raise ApiError(400, str(e)) from None
    log.info("report %s filed through Open311 by client %s", filed.ref, client)
    # GeoReport v2: the id when it is known at once (it is: filed in this transaction), a token
    # only when it is not; never both.
    document = [
        {
            "service_request_id": filed.ref,
            "service_notice": filed.notice,
            "account_id": submission.contact.account_id,
        }
    ]
    return respond(fmt, "service_requests", document, status=201)


def _contact(request: web.Request, form: dict[str, str]) -> Contact:
    """The contact fields (kept for staff, never published); ``email_consent=true`` says the
    person agreed to be written to, as staff questions are sent only then."""
    given = {
        f: _param(request, f, form)[:200] or None
        for f in ("first_name", "last_name", "email", "phone", "device_id", "account_id")
    }
    consent = _param(request, "email_consent", form).lower() in ("true", "1", "yes")
    return Contact(**given, email_consent=consent)


async def _file(data: OpenData, client: str, submission: Submission) -> Filed:
    now = data.app.deps.clock.now()
    async with data.app.db.transaction() as conn:
        filed = await file_submission(conn, data.m, client, submission, now)
        messages = [
            outbox.NewMessage(o.channel, o.chat_id, None, o.reply.to_payload())
            for o in filed.outgoing
        ]
        await outbox.enqueue(conn, messages, now)
    data.app.sender.wake()
    return filed


async def _locate(data: OpenData, s: Submission) -> Submission:
    """Coordinates for a typed address, and an address for bare coordinates (as chat does)."""
    geocoder = data.app.deps.geocoder
    if s.latitude is not None and s.longitude is not None:
        if s.address:
            return s
        address = await geocoder.reverse(s.latitude, s.longitude)
        return _replace(s, address=address)
    assert s.address is not None  # noqa: S101 - check_submission asks for one of the two
    try:
        place = await geocoder.geocode(s.address)
    except GeocoderUnavailableError:
        return s  # kept as written, as in chat
    if place is None:
        raise SubmissionError("address_string: not found; send lat and long")
    located = _replace(s, latitude=place.latitude, longitude=place.longitude)
    check_submission(data.m, located)
    return located


def _replace(s: Submission, **changes: Any) -> Submission:
    return replace(s, **changes)


def _with_photo(s: Submission, stored: tuple[str, str]) -> Submission:
    path, sha256 = stored
    return _replace(s, photo=NewPhoto(path, sha256, "open311", ""))


async def fetch_photo(data: OpenData, url: str) -> tuple[str, str]:
    """Download ``media_url`` (guarded: see bot/web/media.py) under the photo limits and store
    it as chat's photos are."""
    try:
        content = await media.fetch(url, data.settings.open311_media_allow, MAX_PHOTO_BYTES)
    except media.MediaRefusedError as e:
        raise SubmissionError(str(e)) from None
    except TimeoutError:
        raise SubmissionError(f"media_url: not fetched within {media.TIMEOUT_S} s") from None
    except (aiohttp.ClientError, ValueError):
        raise SubmissionError("media_url: could not be fetched") from None
    try:
        stored = await asyncio.to_thread(data.app.deps.photos.save, content)
    except ImageTooLargeError:
        raise SubmissionError("media_url: the picture is too large") from None
    except InvalidImageError:
        raise SubmissionError("media_url: not a picture (JPEG or PNG)") from None
    return stored.path, stored.sha256


def _photo(data: OpenData) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Serve the stored (EXIF-free) copy of a public report's photo."""

    async def serve(request: web.Request) -> web.StreamResponse:
        path = await opendata.public_photo(data.conn, request.match_info["sha"])
        if path is None:
            raise web.HTTPNotFound
        return web.FileResponse(Path(data.settings.data_dir) / path)

    return serve
