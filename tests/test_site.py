"""The public site in a real browser: Debian's chromium driven by Playwright, against the bot's
real web server over a real SQLite file. Screenshots go to .screenshots/ (not committed)."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from playwright.async_api import Browser, ConsoleMessage, Page, ViewportSize, async_playwright

from bot import runtime
from bot import web as public_web
from bot.settings import Settings
from storage import budget
from storage.budget import Line
from tests.conftest import REF, ROOT, VLASOTINCE, Office, free_port
from tests.test_export import suggested_titles

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SHOTS = ROOT / ".screenshots"
TILE_PORT = free_port()

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} is missing (make test installs it as root)"
)


def tile_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), "#dde8d0").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_CONFIG": str(VLASOTINCE),
            "HTTP_PORT": str(free_port()),
            "SITE_TILE_URL": f"http://127.0.0.1:{TILE_PORT}/{{z}}/{{x}}/{{y}}.png",
        }
    )


@pytest.fixture
async def tiles() -> AsyncIterator[list[str]]:
    """A tile server on 127.0.0.1 that answers every tile with a plain square."""
    asked: list[str] = []
    content = tile_png()

    async def tile(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(body=content, content_type="image/png")

    app = web.Application()
    app.router.add_get("/{z}/{x}/{y}.png", tile)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", TILE_PORT).start()
    try:
        yield asked
    finally:
        await runner.cleanup()


@dataclass
class Visit:
    """A browser tab on the site, with what its console said and where it went."""

    page: Page
    root: str
    errors: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)

    async def open(self, path: str = "/") -> None:
        answer = await self.page.goto(self.root + path)
        assert answer is not None
        assert answer.status == 200, path
        assert "set-cookie" not in answer.headers

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def site(office: Office, settings: Settings, browser: Browser) -> AsyncIterator[Visit]:
    routes = runtime.web_app()
    public_web.add_routes(routes, settings, office.bot.app)
    runner = await runtime.serve(routes, settings)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    visit = Visit(page, f"http://127.0.0.1:{settings.http_port}")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            visit.errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.on("request", lambda r: visit.hosts.add(urlsplit(r.url).hostname or ""))
    try:
        yield visit
    finally:
        assert await context.cookies() == []
        await context.close()
        await runner.cleanup()


async def some_data(office: Office) -> None:
    await suggested_titles(office)
    await office.report_leak()
    await office.staff("vesna", f"/progress {REF} A crew is on its way.")
    await office.report_leak("mila")
    await office.staff("vesna", "/private VLA-2026-00002")
    lines = [
        Line(1, "spending", "0701", "0701-0002", "Одржавање путева", "451", "425", "01",
             10_000_000_00, 2_500_000_00),
        Line(2, "spending", "1102", "1102-0001", "Јавна расвета", "640", "421", "01",
             4_000_000_00, 3_000_000_00),
    ]  # fmt: skip
    async with office.bot.app.db.transaction() as conn:
        await budget.add_version(
            conn, 2026, "execution", date(2026, 6, 30), "b.csv", lines, imported_by=None,
            now=office.bot.clock.now(),
        )  # fmt: skip


async def test_the_first_page_shows_the_map_reports_scorecards_and_budget(
    office: Office, site: Visit, tiles: list[str]
) -> None:
    await some_data(office)
    await site.open("/")
    page = site.page
    await page.wait_for_selector("#map[data-ready='1']")
    await page.keyboard.press("Tab")  # the keyboard's first stop skips to the content
    assert await page.evaluate("document.activeElement.className") == "skip"
    assert await page.locator("path.report-marker").count() == 1  # the private one is not shown
    assert await page.locator("path.status-in_progress").count() == 1
    assert tiles, "the tiles come from the tile server of the setting"
    assert await page.inner_text("h1") == "Власотинце"
    assert await page.get_attribute("html", "lang") == "sr-Cyrl"
    recent = page.locator("#reports .recent > li")
    assert await recent.count() == 1
    await recent.first.locator("summary").click()
    text = await recent.first.inner_text()
    assert REF in text
    assert "Water is gushing from a pipe on the corner" in text
    assert "у раду: A crew is on its way." in text
    # Dates as the page's reader writes them (Serbian Cyrillic), on Belgrade's clock.
    summary = f"{REF} · Водовод и канализација · ЈКП Водовод и канализација · у раду · 17. 5. 2026."
    assert await recent.first.locator("summary").inner_text() == summary
    assert "\n17. 5. 2026.: у раду: A crew is on its way." in text
    assert "VLA-2026-00002" not in await page.content()
    assert "Ana" not in await page.inner_text("main")
    photo = recent.first.locator("img")
    assert "VLA-2026-00001" in (await photo.get_attribute("alt") or "")
    # The photo loads once the details are open: wait for it (it fails if it never does).
    loaded = await photo.element_handle()
    await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=loaded)
    card = page.locator("#scorecards .card").first
    assert "ЈКП Водовод и канализација" in await card.inner_text()
    assert "1" in await card.locator("dd").first.inner_text()
    assert await card.locator("svg title").count() == 1
    assert await card.locator("svg title").text_content() == (
        "Примљене пријаве по месецима, последњих 12 месеци: јун 2025.: 0, јул 2025.: 0,"
        " август 2025.: 0, септембар 2025.: 0, октобар 2025.: 0, новембар 2025.: 0,"
        " децембар 2025.: 0, јануар 2026.: 0, фебруар 2026.: 0, март 2026.: 0, април 2026.: 0,"
        " мај 2026.: 1"
    )
    budget_rows = page.locator("#budget tbody tr")
    assert await budget_rows.count() == 2
    assert "10.000.000" in await budget_rows.first.inner_text()
    assert "25" in await budget_rows.first.locator("td").last.inner_text()
    plans = page.locator("#plan h3")  # Vlasotince publishes two plans
    assert (
        await plans.first.inner_text()
        == "Локални акциони план за отворену управу општине Власотинце 2026–2027"
    )
    assert await page.locator("#plan li").count() == 4 + 2
    commitments = page.locator("#plan ul").first.locator("li")
    assert await commitments.count() == 4  # the plan's commitments; activities are in plan.csv
    assert "71 %" in await commitments.first.inner_text()  # computed from its activities
    assert await commitments.first.locator("progress").get_attribute("value") == "71"
    wanted = page.locator("#library ol li")
    assert await wanted.count() == 2
    assert "На Дрини ћуприја · Иво Андрић · грађана тражи: 3" in await wanted.first.inner_text()
    assert "reason" not in await page.inner_text("main")
    assert await page.evaluate("document.cookie") == ""
    await site.shot("home-sr-Cyrl")
    assert site.errors == []
    assert site.hosts == {"127.0.0.1"}


async def test_the_scorecards_write_days_as_the_pages_reader_does(
    office: Office, site: Visit, tiles: list[str]
) -> None:
    """A median of a day and a half is 1,5 in Serbian (and Hungarian, Bosnian), 1.5 in English."""
    del tiles
    await office.report_leak()
    office.bot.clock.advance(hours=36)
    await office.staff("vesna", f"/ack {REF}")
    page = site.page
    for language, median in (("sr-Cyrl", "1,5"), ("sr-Latn", "1,5"), ("en", "1.5"),
                             ("hu", "1,5"), ("bs", "1,5")):  # fmt: skip
        await site.open(f"/?lang={language}")
        assert await page.get_attribute("html", "lang") == language
        figures = page.locator("#scorecards .card").first.locator("dd")
        assert await figures.all_inner_texts() == ["1", median, "-", "-"], language
    await site.shot("scorecards-en")
    assert site.errors == []


async def test_the_language_switch_keeps_no_cookie(
    office: Office, site: Visit, tiles: list[str]
) -> None:
    del tiles
    await some_data(office)
    await site.open("/")
    page = site.page
    await page.click("text=Srpski (latinica)")
    await page.wait_for_selector("#map[data-ready='1']")
    assert await page.inner_text("h1") == "Vlasotince"
    assert await page.get_attribute("html", "lang") == "sr-Latn"
    assert "JKP Vodovod i kanalizacija" in await page.inner_text("#scorecards")
    await page.click("text=Magyar")
    assert await page.get_attribute("html", "lang") == "hu"
    assert "Költségvetés" in await page.inner_text("header")
    # Amounts as each language writes them: Hungarian groups thousands with a no-break space.
    planned = page.locator("#budget tbody tr").first.locator("td").first
    assert await planned.text_content() == "10\u00a0000\u00a0000"
    await site.shot("home-hu")
    await page.click("text=English")
    assert "Budget" in await page.inner_text("header")
    assert await planned.text_content() == "10,000,000"
    assert "in progress" in await page.inner_text("#reports")
    await page.goto(site.root + "/")  # no cookie: a new visit is in the municipality's language
    assert await page.get_attribute("html", "lang") == "sr-Cyrl"
    assert site.errors == []


async def test_the_markers_show_when_no_tile_loads(
    office: Office, site: Visit
) -> None:  # no tile server: every tile fails
    await some_data(office)
    await site.open("/")
    await site.page.wait_for_selector("#map[data-ready='1']")
    assert await site.page.locator("path.report-marker").count() == 1
    await site.shot("home-without-tiles")
    assert site.errors, "the failed tiles are logged"
    assert all("Failed to load resource" in e for e in site.errors), site.errors


async def test_on_a_phone_nothing_runs_off_the_screen(
    office: Office, site: Visit, tiles: list[str]
) -> None:
    del tiles
    await some_data(office)
    await site.page.set_viewport_size({"width": 360, "height": 740})
    await site.open("/")
    await site.page.wait_for_selector("#map[data-ready='1']")
    width = await site.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    await site.shot("home-phone")
    assert site.errors == []


PHONE: ViewportSize = {"width": 360, "height": 740}
# What a visitor reads on the first page, list by list.
LISTS = ("#reports .recent > li", "#scorecards .card", "#budget tbody tr", "#plan li",
         "#library ol li", ".legend li")  # fmt: skip


async def test_on_a_phone_without_tiles_the_markers_show_and_the_lists_read(
    office: Office, site: Visit
) -> None:  # no tile server: every tile fails, as on a phone without a connection to it
    await some_data(office)
    page = site.page
    await page.set_viewport_size(PHONE)
    await site.open("/")
    await page.wait_for_selector("#map[data-ready='1']")
    area = await page.locator("#map").bounding_box()
    assert area is not None
    assert area["width"] <= PHONE["width"]
    assert area["height"] >= 200  # a map one can read, not a strip
    marker = page.locator("path.report-marker")
    await marker.scroll_into_view_if_needed()
    box = await marker.bounding_box()
    assert box is not None
    assert area["x"] <= box["x"]
    assert box["x"] + box["width"] <= area["x"] + area["width"]
    assert area["y"] <= box["y"]
    assert box["y"] + box["height"] <= area["y"] + area["height"]
    # Nothing covers it: the point at its centre is the marker itself, drawn in its colour.
    on_top = await page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).getAttribute('class')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert "report-marker" in on_top
    assert await marker.evaluate("m => getComputedStyle(m).fill") != "none"
    await page.locator("#reports .recent > li summary").first.click()
    for selector in LISTS:
        items = page.locator(selector)
        assert await items.count() > 0, selector
        for i in range(await items.count()):
            item = items.nth(i)
            shape = await item.bounding_box()
            assert shape is not None, selector
            assert shape["x"] >= 0, selector
            assert shape["x"] + shape["width"] <= PHONE["width"], (selector, shape)
            size = await item.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 14, (selector, size)  # readable without zooming
            cut = await item.evaluate("e => e.scrollWidth > e.clientWidth + 1")
            assert not cut, selector  # every line wraps within the screen
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await site.shot("home-phone-without-tiles")
    assert all("Failed to load resource" in e for e in site.errors), site.errors


async def test_the_data_page_lists_the_data_sets(
    office: Office, site: Visit, settings: Settings
) -> None:
    await some_data(office)
    await public_web.refresh_data(settings, office.bot.app)
    await site.open("/data/?lang=en")
    page = site.page
    main = await page.inner_text("main")
    assert "Reported communal problems" in main
    assert "Budget lines" in main
    assert "Action plan measures" in main
    assert "Titles suggested to the library" in main
    async with aiohttp.ClientSession() as session:
        for link in await page.locator("main a").evaluate_all("links => links.map(a => a.href)"):
            async with session.get(link) as answer:
                assert answer.status == 200, link
    await site.shot("data")
    assert site.errors == []
