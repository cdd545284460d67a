"""Draws the charts of replies as PNG files, outside any transaction, in a cache by content.

A chart is drawn once per content: the same figures give the same file, so a retried message
sends the same picture and a menu opened a hundred times draws it once. Files live under the
data folder's ``photos/charts/`` so that every channel sends them as it sends photos (Viber
fetches them by signed URL). They hold public figures only.

matplotlib takes seconds to import and its first drawing loads the fonts: the outbox sender warms
it in a background thread (``ChartRenderer.warm``) at its first quiet moment after the start (two
seconds with nothing sent), so a resident's first chart is drawn in a warm process, and a busy
start (updates queued while the bot was down) does not share its processor with the warm-up. A
chart asked for before that is drawn cold (matplotlib's import included).

Most of a drawing is text: FreeType shapes and renders every glyph of every label, and nothing
of that is kept from one drawing to the next (the measures are kept per renderer, and each
figure has its own). So the drawing does each text once: laid out by hand (no constrained
layout, which draws every text once more to measure it), the labels measured for the margin on
the drawing's own renderer (whose measures the drawing reuses), the bars' names as plain texts
rather than tick labels, the title placed rather than searched for, the glyphs unhinted; and
the PNG is written in a palette of the chart's own colours, under half the full-colour file.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import itertools
import json
import logging
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from handlers.events import Chart, Reply
from storage.photos import write_atomically

if TYPE_CHECKING:  # matplotlib is imported at the first drawing, not with this module
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text
    from matplotlib.typing import RcKeyType
    from PIL import Image

log = logging.getLogger(__name__)

CHARTS_DIR = Path("photos") / "charts"
KEEP_S = 2 * 24 * 3600  # older drawings are deleted when a new one is drawn
LABEL_WIDTH = 26  # characters per line of a bar's label
WIDTH_IN, DPI = 7.2, 110  # about 800 px wide: sharp on a phone, small to send
BAR, REFERENCE = "#1f5f99", "#c9d6e3"
PAPER, INK = "#ffffff", "#000000"  # the background; the texts, axis and ticks
LABEL_PT = 9  # the bars' labels' font size
LABEL_GAP_PT = 7.0  # from a label to the axis (where a tick mark and its pad were)
# Unhinted glyphs: FreeType hinting DejaVu Sans (running its bytecode for every glyph each time
# a text is measured or drawn) was a fifth of a drawing; at 9-11 pt on 110 dpi the unhinted text
# reads the same (phones draw their own text so). The colours are the palette's (see _palette).
STYLE: dict[RcKeyType, str] = {
    "text.hinting": "no_hinting", "figure.facecolor": PAPER, "axes.facecolor": PAPER,
    "text.color": INK, "axes.edgecolor": INK, "axes.labelcolor": INK, "xtick.color": INK,
    "ytick.color": INK, "legend.labelcolor": INK,
}  # fmt: skip
# matplotlib is not made for drawing in several threads at once (its fonts are shared).
_MATPLOTLIB = threading.Lock()
_warming: list[threading.Thread] = []  # the process's one warm-up, once started
WARM_UP = Chart(
    "Загревање · Warm-up · Bemelegítés", ("Програм · Program · Programok 0123456789 %,.",),
    (1.0,), reference=(2.0,), legend=("извршено", "планирано"), value_labels=("50%",),
    unit="милиона динара",
)  # fmt: skip


class ChartRenderer:
    """Turns a reply's chart into one more photo of the reply."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._drawing = asyncio.Lock()  # the same chart asked twice at once is drawn once

    def warm(self) -> threading.Thread:
        """Import matplotlib and draw a small chart (Cyrillic, Latin, digits) in a background
        thread, once per process; a chart asked for meanwhile waits for it, not for more."""
        if not _warming:
            # Not a daemon: one killed at the exit inside matplotlib's C++ aborts the process
            # ("terminate called without an active exception"); the exit waits for it instead.
            thread = threading.Thread(target=warm_up, name="charts-warm-up", daemon=False)
            _warming.append(thread)
            thread.start()
        return _warming[0]

    async def with_picture(self, reply: Reply) -> Reply:
        """The reply with its chart drawn and put first among its photos.

        A chart that cannot be drawn is left out (logged without its figures): the reply's text
        carries the same figures, and an answer without a picture beats no answer.
        """
        if reply.chart is None:
            return reply
        try:
            path = await self.draw(reply.chart)
        except Exception:
            log.exception("a chart could not be drawn; the message goes without it")
            return replace(reply, chart=None)
        return replace(reply, photos=(str(path), *reply.photos), chart=None)

    async def draw(self, chart: Chart) -> Path:
        """The chart's file, relative to the data folder, drawn when it is not cached."""
        relative = CHARTS_DIR / f"{_content_key(chart)}.png"
        target = self._data_dir / relative
        if target.is_file():
            return relative
        async with self._drawing:
            if not target.is_file():
                png = await asyncio.to_thread(_render_alone, chart)
                await asyncio.to_thread(_store, target, png)
        return relative


def _content_key(chart: Chart) -> str:
    canonical = json.dumps(chart.to_payload(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _store(target: Path, png: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, png)  # a reader never sees half a file
    cutoff = time.time() - KEEP_S
    for old in target.parent.glob("*.png"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def warm_up() -> None:
    """Import matplotlib and draw once, so that the fonts and caches are loaded."""
    try:
        _render_alone(WARM_UP)
    except Exception:
        log.exception("charts could not be warmed up; the first one is drawn cold")


def _render_alone(chart: Chart) -> bytes:
    with _MATPLOTLIB:
        return render_png(chart)


def render_png(chart: Chart) -> bytes:
    """The chart as a PNG: horizontal bars, the first label on top, readable on a phone."""
    # Imported at the first chart (or the warm-up): matplotlib and numpy are 40 MB that a
    # process which never draws does not need to hold. The Agg backend: no display on a server.
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context(STYLE):
        return _drawn(chart)


def _drawn(chart: Chart) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [textwrap.fill(label, LABEL_WIDTH, max_lines=3) for label in chart.labels]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = 1.4 + 0.3 * lines + 0.15 * len(labels)
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    # The drawing's own renderer: a text measured on it (the labels, for the margin) is laid
    # out once, as the drawing reuses the measure instead of shaping the text again.
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _draw_bars(axes, chart)
    names = _write_labels(axes, labels)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]  # backend_agg: no types
    widest = max(name.get_window_extent(renderer).width for name in names)
    # The margins by hand: the left one as wide as the widest line of a label (with room for
    # the gap to the axis), the top one as high as the title.
    width_px = WIDTH_IN * DPI
    title = textwrap.fill(chart.title, 60)
    figure.subplots_adjust(
        left=min(0.5, (widest * 1.05 + 20) / width_px), right=1 - 18 / width_px,
        top=1 - (0.3 + 0.2 * (title.count("\n") + 1)) / height, bottom=0.5 / height,
    )  # fmt: skip
    axes.set_xlabel(chart.unit, fontsize=9)
    # Placed, not searched for: matplotlib looks for ticks above the axes to clear otherwise.
    axes.set_title(title, fontsize=11, loc="left", y=1.0)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if chart.legend:
        axes.legend(fontsize=8, loc="lower right", frameon=False)
    canvas.draw()  # type: ignore[no-untyped-call]
    return _png(canvas)


def _draw_bars(axes: Axes, chart: Chart) -> None:
    """The bars (the reference ones behind), their values at their ends, the value axis."""
    rows = range(len(chart.labels))
    legend = [*chart.legend, "", ""]
    if chart.reference:
        axes.barh(rows, chart.reference, height=0.75, color=REFERENCE, label=legend[1] or None)
    drawn = axes.barh(
        rows, chart.values, height=0.45 if chart.reference else 0.7, color=BAR,
        label=legend[0] or None,
    )  # fmt: skip
    if chart.value_labels:
        axes.bar_label(drawn, labels=list(chart.value_labels), padding=4, fontsize=LABEL_PT)
    axes.invert_yaxis()
    top = chart.maximum or max((*chart.values, *chart.reference, 0.0)) or 1.0
    axes.set_xlim(0, top * (1.0 if chart.maximum else 1.2))


def _write_labels(axes: Axes, labels: list[str]) -> list[Text]:
    """Each bar's label left of the axis, beside its bar, as a plain text.

    Not tick labels: 17 ticks are 85 artists (marks, grid lines, a hidden second label) built
    and laid out for 17 texts, a fifth of the drawing.
    """
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    axes.set_yticks([])
    gap = ScaledTranslation(-LABEL_GAP_PT / 72, 0, axes.figure.dpi_scale_trans)
    place = blended_transform_factory(axes.transAxes, axes.transData) + gap
    return [
        axes.text(0, row, label, transform=place, ha="right", va="center", fontsize=LABEL_PT)
        for row, label in enumerate(labels)
    ]


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The drawn canvas as a PNG of 256 colours, one byte a pixel.

    The picture has four colours and the shades that antialiasing blends between them: in the
    palette of those (_palette) it is a file of 43% the size of the full-colour one (38 KB
    instead of 88 for the 17 programs: it goes to phones over mobile data), encoded in half the
    time, and no pixel of the four colours moves (a blend moves by 7 of 255 at most).
    """
    from PIL import Image

    width, height = canvas.get_width_height()
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]  # backend_agg: no types
    image = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    mapped = image.convert("RGB").quantize(palette=_palette(), dither=Image.Dither.NONE)
    out = io.BytesIO()
    mapped.save(out, format="png")
    return out.getvalue()


@functools.cache
def _palette() -> Image.Image:
    """The chart's colours and, between each two of them, the shades of their blends.

    A shade within 8 levels of one of the colours is left out: Pillow maps a pixel to the
    palette colour nearest to the middle of its box of 8 levels, and a shade there would take
    the colour's own pixels (the white background would turn off-white).
    """
    from matplotlib.colors import to_rgb
    from PIL import Image

    own = [tuple(round(255 * c) for c in to_rgb(colour)) for colour in (PAPER, INK, BAR, REFERENCE)]
    pairs = list(itertools.combinations(own, 2))
    steps = (256 - len(own)) // len(pairs)
    colours = list(own)
    for one, other in pairs:
        for step in range(1, steps + 1):
            share = step / (steps + 1)
            shade = tuple(round(a + (b - a) * share) for a, b in zip(one, other, strict=True))
            if all(
                max(abs(s - c) for s, c in zip(shade, colour, strict=True)) >= 8 for colour in own
            ):
                colours.append(shade)
    palette = Image.new("P", (1, 1))
    palette.putpalette([level for colour in colours for level in colour])
    return palette


def _distance(one: tuple[int, ...], other: tuple[int, ...]) -> int:
    """The largest difference of two colours' levels."""
    return max(abs(a - b) for a, b in zip(one, other, strict=True))
