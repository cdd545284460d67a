"""Charts: handlers return figures, the outbox sender draws them, every channel sends a picture."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import math
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bot.charts import CHARTS_DIR, ChartRenderer, render_png
from bot.outbox import OutboxSender
from bot.settings import Settings
from handlers.events import Chart, Reply
from handlers.municipality import Municipality
from storage.outbox import NewMessage, enqueue
from tests.conftest import ROOT, Bot, eventually, telegram_app
from tests.dialogs import ANA, viber_app
from tests.fakes.ports import FakeGeocoder
from tests.fakes.telegram_api import Call
from tests.fakes.viber_api import Call as ViberCall
from tests.fakes.viber_api import JSONDict

SPENDING = Chart(
    title="Расходи по програмима, 2026.",
    labels=("Комуналне делатности", "Саобраћај и путна инфраструктура", "Социјална заштита"),
    values=(48.2, 30.1, 12.0),
    reference=(60.0, 35.0, 14.0),
    legend=("извршено", "планирано"),
    value_labels=("48,2", "30,1", "12,0"),
    unit="милиона динара",
)
CHAT = 7001


def png_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "PNG"
        return image.size


def test_a_chart_survives_the_outbox_row_it_is_kept_in() -> None:
    reply = Reply("Буџет", chart=SPENDING)
    assert Reply.from_payload(reply.to_payload()) == reply
    assert Reply.from_payload(Reply("text").to_payload()).chart is None


@pytest.mark.parametrize(
    ("labels", "values", "reference"),
    [
        ((), (), ()),  # nothing to draw
        (tuple(f"p{i}" for i in range(25)), tuple(range(25)), ()),  # unreadable on a phone
        (("a", "b"), (1.0,), ()),  # a bar without its value
        (("a",), (-1.0,), ()),  # spending is not negative
        (("a",), (math.nan,), ()),
        (("a",), (1.0,), (1.0, 2.0)),
    ],
)
def test_a_chart_that_could_not_be_read_is_refused_when_built(
    labels: tuple[str, ...], values: tuple[float, ...], reference: tuple[float, ...]
) -> None:
    with pytest.raises(ValueError, match="chart"):
        Chart("x", labels, tuple(float(v) for v in values), reference=reference)


def test_the_picture_is_a_phone_sized_png_taller_with_more_bars() -> None:
    width, height = png_size(render_png(SPENDING))
    assert 700 <= width <= 900
    more = Chart("x", tuple(f"Програм {i}" for i in range(17)), tuple(float(i) for i in range(17)))
    assert png_size(render_png(more))[1] > height


def test_the_picture_is_a_palette_png_that_keeps_the_charts_own_colours() -> None:
    """One byte a pixel (under half the full-colour file: phones on mobile data get it), and
    the background and the bars keep their exact colours, only the blends between them move."""
    with Image.open(io.BytesIO(render_png(SPENDING))) as image:
        assert image.mode == "P"
        picture = image.convert("RGB")
    found = {colour for _, colour in picture.getcolors(256) or ()}
    own = {(255, 255, 255), (0x1F, 0x5F, 0x99), (0xC9, 0xD6, 0xE3)}  # paper, bar, reference
    assert own <= found
    assert picture.getpixel((0, 0)) == (255, 255, 255)


def test_drawing_leaves_matplotlibs_settings_as_they_were() -> None:
    """The chart's style (unhinted glyphs, its colours) is the drawing's, not the process's."""
    import matplotlib

    render_png(SPENDING)
    before = dict(matplotlib.rcParams)
    render_png(SPENDING)
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.rcParams["text.hinting"] != "no_hinting"


def test_the_longest_label_is_whole_left_of_the_axis() -> None:
    """The left margin is measured on the drawing's own texts: nothing is cut at the edge."""
    longest = "Енергетска ефикасност и обновљиви извори енергије"
    chart = Chart("x", (longest, "Саобраћај"), (1.0, 2.0))
    with Image.open(io.BytesIO(render_png(chart))) as image:
        grey = image.convert("L")
    edge = grey.crop((0, 0, 4, grey.height)).tobytes()
    assert min(edge) == 255  # nothing drawn at the very edge: the label is not cut
    near = grey.crop((4, 0, 60, grey.height)).tobytes()
    assert min(near) < 128  # but the label starts near it: the margin is not wasted


async def test_the_same_figures_are_drawn_once(tmp_path: Path) -> None:
    renderer = ChartRenderer(tmp_path)
    first = await renderer.draw(SPENDING)
    drawn_at = (tmp_path / first).stat().st_mtime_ns
    assert await renderer.draw(SPENDING) == first
    assert (tmp_path / first).stat().st_mtime_ns == drawn_at
    other = await renderer.draw(Chart("x", ("a",), (1.0,)))
    assert other != first
    assert first.parent == other.parent == CHARTS_DIR


async def test_telegram_gets_the_chart_as_a_photo_before_the_text(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    async with telegram_app(settings, municipality, geocoder) as (fake, app, _):
        async with app.db.transaction() as conn:
            reply = Reply("Буџет за 2026: 90,3 милиона динара", chart=SPENDING)
            await enqueue(conn, [NewMessage("telegram", str(CHAT), None, reply.to_payload())],
                          app.deps.clock.now())  # fmt: skip
        await app.sender.drain()

        def photo_sent(calls: list[Call]) -> list[Call]:
            return [c for c in calls if c.method == "sendPhoto"]

        (photo,) = await fake.wait_for(photo_sent)
        (upload,) = photo.files.values()
        assert png_size(upload.content)[0] >= 700
        photo_message, text = fake.sent_messages(CHAT)[-2:]
        assert "photo" in photo_message
        assert str(text.get("text")).startswith("Буџет за 2026")


async def test_viber_fetches_the_chart_by_its_signed_url(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder
) -> None:
    async with viber_app(settings, municipality, geocoder) as running:
        running.fake.subscribe(ANA)
        app = running.app
        async with app.db.transaction() as conn:
            reply = Reply("Буџет", chart=SPENDING)
            await enqueue(conn, [NewMessage("viber", ANA, None, reply.to_payload())],
                          app.deps.clock.now())  # fmt: skip
        app.sender.wake()

        def both_sent(_: list[ViberCall]) -> list[JSONDict]:
            sent = running.fake.sent_to(ANA)
            return sent[-2:] if len(sent) >= 2 else []

        picture, text = await running.fake.wait_for(both_sent)
        assert (picture["type"], text["text"]) == ("picture", "Буџет")
        async with aiohttp.ClientSession() as http, http.get(picture["media"]) as response:
            assert response.status == 200
            assert png_size(await response.read())[0] >= 700


async def test_a_chart_that_cannot_be_drawn_leaves_the_text_to_go_alone(
    settings: Settings, municipality: Municipality, geocoder: FakeGeocoder,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # The data folder is a file: nothing can be written under it.
    broken = settings.data_dir.parent / "not-a-folder"
    broken.write_text("")
    renderer = ChartRenderer(broken)
    with caplog.at_level(logging.ERROR):
        reply = await renderer.with_picture(Reply("Буџет", chart=SPENDING))
    assert (reply.text, reply.photos, reply.chart) == ("Буџет", (), None)
    assert "could not be drawn" in caplog.text
    assert "Комуналне" not in caplog.text  # the figures stay out of the log


class RecordingRenderer(ChartRenderer):
    """A renderer that notes the warm-up instead of starting it."""

    warmed = 0

    def warm(self) -> threading.Thread:
        self.warmed += 1
        return threading.current_thread()


async def test_the_outbox_sender_warms_the_charts_once_it_is_quiet(
    bot: Bot, tmp_path: Path
) -> None:
    renderer = RecordingRenderer(tmp_path)
    sender = OutboxSender(
        bot.app.db, {"test": bot.channel}, bot.clock, charts=renderer, warm_charts_when_quiet=0.2
    )
    task = asyncio.create_task(sender.run())

    async def warmed() -> bool:
        return renderer.warmed == 1

    try:
        await eventually(warmed, "a quiet sender warms the charts")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_sender_that_has_not_been_quiet_does_not_warm_the_charts(
    bot: Bot, tmp_path: Path
) -> None:
    """Its start may be busy (updates queued while the bot was down): the warm-up waits."""
    renderer = RecordingRenderer(tmp_path)
    sender = OutboxSender(
        bot.app.db, {"test": bot.channel}, bot.clock, charts=renderer, warm_charts_when_quiet=3600
    )
    queries: list[str] = []
    await bot.app.db.reader.set_trace_callback(queries.append)
    async with bot.app.db.transaction() as conn:
        await enqueue(
            conn, [NewMessage("test", "ana", None, Reply("hi").to_payload())], bot.clock.now()
        )
    task = asyncio.create_task(sender.run())

    async def gone_to_sleep() -> bool:
        # Asked when the next row is due: the sender has sent and is about to sleep.
        return bool(bot.channel.to("ana")) and any(
            q.startswith("SELECT MIN(next_attempt_at) FROM outbox") for q in queries
        )

    try:
        await eventually(gone_to_sleep, "the sender sends and goes to sleep")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert renderer.warmed == 0


async def test_a_chart_drawn_before_the_warm_up_makes_it_needless(bot: Bot, tmp_path: Path) -> None:
    renderer = RecordingRenderer(tmp_path)
    sender = OutboxSender(
        bot.app.db, {"test": bot.channel}, bot.clock, charts=renderer, warm_charts_when_quiet=0
    )
    chart = Reply("Budget", chart=Chart("Spent", ("Roads",), (1.0,)))
    async with bot.app.db.transaction() as conn:
        await enqueue(conn, [NewMessage("test", "ana", None, chart.to_payload())], bot.clock.now())
    await sender.drain()
    assert bot.channel.to("ana")[0].photos  # drawn, cold
    queries: list[str] = []
    await bot.app.db.reader.set_trace_callback(queries.append)
    task = asyncio.create_task(sender.run())  # quiet at once: it would warm them as it sleeps

    async def gone_to_sleep() -> bool:
        return any(q.startswith("SELECT MIN(next_attempt_at) FROM outbox") for q in queries)

    try:
        await eventually(gone_to_sleep, "the sender goes to sleep")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert renderer.warmed == 0


def test_the_warm_up_imports_matplotlib_and_draws_once_in_the_background(tmp_path: Path) -> None:
    code = "\n".join(
        [
            "import sys",
            "from pathlib import Path",
            "from bot.charts import ChartRenderer",
            "assert 'matplotlib' not in sys.modules  # a bot that never draws does not hold it",
            f"renderer = ChartRenderer(Path({str(tmp_path)!r}))",
            "thread = renderer.warm()",
            "assert renderer.warm() is thread  # once per process",
            "assert not thread.daemon  # the exit waits for it (a daemon's would abort in C++)",
            "thread.join(120)",
            "assert not thread.is_alive()",
            "from matplotlib import font_manager",
            "assert font_manager._get_font.cache_info().currsize > 0  # a font was loaded: drawn",
        ]
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=180)
