"""The public site at /: server-rendered pages (Jinja2) over the same queries as the API.

Little JavaScript (the map only), no cookies and no trackers: the language is a link's ``?lang=``.
The pages read through the API's read-only connection (committed data only).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from bot.web import datasets
from bot.web.open311 import OpenData, copy_answer, data_version, minute
from handlers.budget import period as budget_period
from handlers.budget.money import dinars
from handlers.budget.programs import program_name
from handlers.i18n import LANGUAGES, Translator, translator
from handlers.opendata import days, holder, holder_name, responsible
from handlers.plan.config import PlanSection
from handlers.plan.model import STATUS_NAMES
from handlers.plan.progress import Plan, percent
from handlers.texts import category_name, event_name, status_name
from storage import budget, consultations, library, library_suggestions, opendata, plan
from storage.opendata import PublicNote, PublicReport, RequestQuery, Scorecard

T = TypeVar("T")
HERE = Path(__file__).parent
STATIC = HERE / "static"
RECENT = 20
MAP_DAYS = 90
MAP_LIMIT = 1500
LIBRARY_DAYS = 60
SUGGESTIONS = 10
# The map's colours by status, and the legend's groups.
COLOURS = {
    "new": "#cc0000", "reopened": "#cc0000", "acknowledged": "#e69138",
    "in_progress": "#1c4587", "resolved": "#38761d", "closed": "#38761d", "rejected": "#666666",
    "handed_off": "#666666",
}  # fmt: skip
LEGEND = (
    ("open", "new"), ("acknowledged", "acknowledged"), ("in_progress", "in_progress"),
    ("done", "resolved"), ("rejected", "rejected"),
)  # fmt: skip


def environment() -> jinja2.Environment:
    """The templates, HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(slots=True)
class Site:
    """The pages and what they need."""

    data: OpenData
    templates: jinja2.Environment
    tile_url: str
    data_folder: Path
    _kept: dict[str, tuple[tuple[object, ...], Any]] = field(default_factory=dict)

    async def kept(
        self, name: str, key: tuple[object, ...], compute: Callable[[], Awaitable[T]]
    ) -> T:
        """``compute()``, or what it gave for the same key the last time (one key per name)."""
        found = self._kept.get(name)
        if found is not None and found[0] == key:
            return cast(T, found[1])
        value = await compute()
        self._kept[name] = (key, value)
        return value

    def language(self, request: web.Request) -> str:
        """The ``?lang=`` asked for, else the municipality's first language."""
        asked = request.query.get("lang", "")
        return asked if asked in LANGUAGES else self.data.m.staff_language

    def render(self, name: str, t: Translator, **values: Any) -> web.Response:
        """A page in ``t``'s language."""
        m = self.data.m
        page = self.templates.get_template(name).render(
            _=t.gettext, language=t.language,
            languages=list(LANGUAGES.items()), municipality=t.name(m.name_in(t.language)),
            website=m.website, **values,
        )  # fmt: skip
        return web.Response(text=page, content_type="text/html", charset="utf-8")


def security_headers(tile_url: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """No scripts or styles from elsewhere; images from us and the tile server only."""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    tiles = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
        f" img-src 'self' data: {tiles}; connect-src 'self'; frame-ancestors 'none'"
    )

    @web.middleware
    async def add(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.path == "/" or request.path.startswith(("/data/", "/static/")):
            response.headers["Content-Security-Policy"] = policy
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return add


def add_routes(routes: web.Application, data: OpenData, tile_url: str, folder: Path) -> None:
    """Serve the site: / and /data/, and the shipped static files (Leaflet, the map script)."""
    site = Site(data, environment(), tile_url, folder)
    routes.middlewares.append(security_headers(tile_url))

    async def home(request: web.Request) -> web.Response:
        # Kept as the API's answers are: until the next commit, or the next minute.
        key = (request.path_qs, await data_version(data.conn), minute(data))
        kept = data.answers.get(key)
        if kept is not None:
            return kept
        t = translator(site.language(request), data.m.timezone)
        page = site.render("index.html", t, **await home_values(site, t))
        data.answers.put(key, page)
        return copy_answer(page)

    async def data_page(request: web.Request) -> web.Response:
        t = translator(site.language(request), data.m.timezone)
        return site.render("data.html", t, sets=catalogue_entries(t, folder))

    routes.router.add_get("/", home)
    routes.router.add_get("/data/", data_page)
    routes.router.add_static("/static", STATIC)


def catalogue_entries(t: Translator, folder: Path) -> list[dict[str, str]]:
    """The data sets the last export wrote, described in the page's language."""
    return [
        {"title": t.gettext(title), "description": t.gettext(description), "file": file}
        for file, (title, description, _) in datasets.ABOUT.items()
        if (folder / file).is_file()
    ]


async def home_values(site: Site, t: Translator) -> dict[str, Any]:
    """Everything the first page shows."""
    conn = site.data.conn
    now = site.data.app.deps.clock.now()
    return {
        **await _reports_part(site, t, now),
        "budget": await _budget(site, t),
        "consultations": [
            _consultation(t, budget_period.in_language(t, c, site.data.m))
            for c in await consultations.current(conn, now)
        ],
        "titles": [
            {"title": b.title, "authors": ", ".join(b.authors), "link": b.link}
            for b in (await library.added_since(conn, now - timedelta(days=LIBRARY_DAYS)))[:10]
        ],
        "plan": _plans(t, site.data.m.plan, await plan.all_measures(conn)),
        "suggestions": [
            _suggestion(t, s)
            for s in await library_suggestions.ranked(conn, library_suggestions.SHOWN, SUGGESTIONS)
        ],
    }


async def _reports_part(site: Site, t: Translator, now: datetime) -> dict[str, Any]:
    """The map, the recent reports and the scorecards. Each is kept while what it shows does not
    change (the database's counters of changes to the reports, migration 0025) within its time
    window: most commits of a running bot (conversations, the outbox) touch no report, and a
    staff answer changes the recent reports' history but neither the map nor the figures."""
    conn = site.data.conn
    changes = await opendata.changes(conn)
    minute, language = now.strftime("%Y-%m-%dT%H:%M"), t.language
    start = now - timedelta(days=MAP_DAYS)

    async def recent() -> list[dict[str, Any]]:
        # Only the few the page lists are read whole.
        found = await opendata.find_requests(conn, RequestQuery(start=start, end=now, limit=RECENT))
        notes: dict[int, list[PublicNote]] = {}
        for note in await opendata.notes_of(conn, [r.id for r in found]):
            notes.setdefault(note.report_id, []).append(note)
        return [_recent(site, t, r, notes.get(r.id, [])) for r in found]

    async def points() -> Markup:
        # Five fields of each point, written once as the page's JSON block.
        return htmlsafe_json_dumps({
            "reports": [_point(p) for p in await opendata.map_points(conn, start, now, MAP_LIMIT)],
            "statuses": {s: [status_name(t, s), colour] for s, colour in COLOURS.items()},
            "categories": {c: category_name(t, c) for c in site.data.m.categories},
        })  # fmt: skip

    async def scorecards() -> list[Scorecard]:
        return await opendata.scorecards(conn, now, holder(site.data.m))

    cards = await site.kept("scorecards", (changes.figures, minute[:7]), scorecards)
    return {
        "tile_url": site.tile_url,
        "tile_attribution": "© OpenStreetMap",
        "center": (site.data.m.center_lat, site.data.m.center_lon),
        "points": await site.kept(f"points:{language}", (changes.figures, minute), points),
        "legend": [(swatch, status_name(t, s)) for swatch, s in LEGEND],
        "recent": await site.kept(f"recent:{language}", (changes.any, minute), recent),
        "scorecards": [_card(site, t, c, i) for i, c in enumerate(cards)],
    }


def _suggestion(t: Translator, s: library_suggestions.Suggestion) -> dict[str, Any]:
    """A suggestion as the page shows it: no one's name, only how many asked for it."""
    status = (
        t.gettext("ordered") if s.status == library_suggestions.ORDERED else t.gettext("suggested")
    )
    return {"title": s.title, "author": s.author, "supporters": s.supporters, "status": status}


def _plans(t: Translator, plans: PlanSection, measures: list[plan.Measure]) -> list[dict[str, Any]]:
    """Each published plan with measures: its title (when there are several) and commitments."""
    shown = []
    for info in plans.plans:
        tree = Plan([m for m in measures if m.plan == info.id])
        if tree.roots:
            title = info.title_in(t) if plans.several else ""
            shown.append({"id": info.id, "title": title, "commitments": _plan(t, tree)})
    return shown


def _plan(t: Translator, tree: Plan) -> list[dict[str, Any]]:
    """The plan's commitments with their computed progress (the activities are in plan.csv)."""
    return [
        {"key": m.key, "title": m.title, "progress": percent(tree.progress(m.id)),
         "status": t.gettext(STATUS_NAMES.get(m.status, m.status))}
        for m in tree.roots
    ]  # fmt: skip


def _consultation(t: Translator, c: consultations.Consultation) -> dict[str, Any]:
    when = t.datetime(c.starts_at)
    return {
        "title": c.title, "description": c.description, "place": c.place, "link": c.link,
        "minutes": c.minutes, "when": when,
        # A budget consultation's file is in the page's language (the bot's own texts).
        "calendar": f"/consultations/{c.id}.ics" + (f"?lang={t.language}" if c.budget_year else ""),
    }  # fmt: skip


def _point(p: opendata.MapPoint) -> list[Any]:
    """A map point, short (a page may carry a few thousand): ref, lat, lon, status, category."""
    ref, latitude, longitude, status, category = p
    return [ref, round(latitude, 6), round(longitude, 6), status, category]


def _recent(site: Site, t: Translator, r: PublicReport, notes: list[PublicNote]) -> dict[str, Any]:
    def text(n: PublicNote) -> str:
        if n.kind == "status" and n.new_status:
            named = status_name(t, n.new_status)
            return f"{named}: {n.text}" if n.text else named
        return n.text or event_name(t, n.kind)

    photo = f"/media/{r.photo_sha256}.jpg" if r.photo_sha256 else None
    return {
        "ref": r.ref, "category": category_name(t, r.category),
        "responsible": responsible(site.data.m, t, r)[1],
        "status": status_name(t, r.status), "created": t.date(r.created_at),
        "updated": t.date(r.last_change),
        "description": r.description, "address": r.address, "photo": photo,
        "notes": [{"at": t.date(n.at), "text": text(n)} for n in notes],
    }  # fmt: skip


def _card(site: Site, t: Translator, c: Scorecard, index: int) -> dict[str, Any]:
    highest = max((n for _, n in c.per_month), default=0) or 1
    bars = [
        {"x": 4 + i * 19.5, "height": round(50 * n / highest, 1),
         "y": round(56 - 50 * n / highest, 1), "label": month[5:]}
        for i, (month, n) in enumerate(c.per_month)
    ]  # fmt: skip
    return {
        "id": index,
        "name": holder_name(site.data.m, t, c.service),
        "open": c.open_now,
        "ack": days(t, c.median_ack_days),
        "resolve": days(t, c.median_resolve_days),
        "within": "-" if c.resolved_in_time is None else f"{100 * c.resolved_in_time:.0f} %",
        "bars": bars,
        "months_text": ", ".join(f"{_month(t, month)}: {n}" for month, n in c.per_month),
    }


def _month(t: Translator, year_month: str) -> str:
    """A scorecard's month (YYYY-MM, as the query counts them) as the page's reader writes it."""
    return t.month(date.fromisoformat(f"{year_month}-01"))


async def _budget(site: Site, t: Translator) -> dict[str, Any] | None:
    version = await budget.latest(site.data.conn)
    if version is None:
        return None
    programs = await budget.program_totals(site.data.conn, version.id)
    caption = t.gettext(
        "Budget {year}, as of {date}: planned and executed by program.",
        year=version.year,
        date=t.date(version.as_of),
    )
    return {
        "caption": caption,
        "programs": [
            {
                "name": f"{p.key} {program_name(t, p.key)}",
                "planned": dinars(t, p.planned),  # as the chat writes amounts, per language
                "executed": dinars(t, p.executed),
                "share": f"{100 * p.executed / p.planned:.0f}" if p.planned else "-",
            }
            for p in programs
        ],
    }
