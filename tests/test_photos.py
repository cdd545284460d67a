"""Photos are stored small enough for the messengers, decoded within a budget, saved safely."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from bot.scheduler import find_job, run_job
from storage import reports
from storage.photos import InvalidImageError, PhotoStore, _downscale
from storage.sql import fetch_all
from tests.conftest import Bot, DialogInput, Picture, Pin, Press, jpeg, photo_files
from tests.pngs import RGB, header_only_png, striped_png


def stored_image(store: PhotoStore, content: bytes) -> Image.Image:
    """Save a photo and read back the stored file."""
    path = store.data_dir / store.save(content).path
    with Image.open(path) as image:
        image.load()
    return image


def fits_the_messengers(store: PhotoStore, content: bytes) -> tuple[int, int]:
    """Save a photo; check Telegram's w + h <= 10,000 and ratio <= 20, ours, and Viber's 1 MB."""
    path = store.data_dir / store.save(content).path
    assert path.stat().st_size <= 1_000_000
    with Image.open(path) as image:
        w, h = image.size
    assert max(w, h) <= 2560
    assert w + h <= 10_000
    assert max(w, h) <= 20 * min(w, h)
    return w, h


def jpeg_of(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", **params)
    return out.getvalue()


def test_a_small_png_of_7000_by_7000_pixels_is_stored_at_2560(tmp_path: Path) -> None:
    content = striped_png(7000, 7000)
    assert len(content) < 70_000
    store = PhotoStore(tmp_path)
    image = stored_image(store, content)
    assert image.format == "JPEG"
    assert image.size == (2560, 2560)
    # The picture survives the reduction: the top left block is the first palette colour.
    r, g, b = image.getpixel((20, 20))  # type: ignore[misc]
    assert (r > 150, g < 80, b < 80) == (True, True, True)


def test_a_panorama_is_stored_within_telegrams_limits(tmp_path: Path) -> None:
    panorama = Image.new("RGB", (9000, 1500), "skyblue")
    panorama.paste((40, 120, 40), (0, 1000, 9000, 1500))
    assert fits_the_messengers(PhotoStore(tmp_path), jpeg_of(panorama, quality=90)) == (2560, 427)


def test_a_picture_narrower_than_one_to_twenty_is_padded_not_cut(tmp_path: Path) -> None:
    strip = Image.new("RGB", (12_000, 300), (250, 20, 20))
    image = stored_image(PhotoStore(tmp_path), jpeg_of(strip))
    assert image.size == (2560, 128)
    # The whole strip is there, in the middle, between white borders.
    red = [image.getpixel((x, 64)) for x in (5, 1280, 2554)]
    assert all(p[0] > 200 and p[1] < 80 for p in red)  # type: ignore[index]
    assert all(min(image.getpixel((1280, y))) > 230 for y in (2, 125))  # type: ignore[arg-type]


def test_noise_is_stored_under_a_megabyte_for_viber(tmp_path: Path) -> None:
    noise = Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3))
    fits_the_messengers(PhotoStore(tmp_path), jpeg_of(noise, quality=95))


def test_a_turned_phone_photo_is_stored_upright_and_without_exif(tmp_path: Path) -> None:
    photo = Image.new("RGB", (4000, 3000), "white")
    photo.paste((0, 0, 0), (0, 0, 400, 3000))  # a black band on the left as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90° clockwise
    exif[0x010F] = "PhoneMaker"
    image = stored_image(PhotoStore(tmp_path), jpeg_of(photo, exif=exif))
    assert image.size == (1920, 2560)
    assert not image.getexif()
    assert max(image.getpixel((960, 40))) < 40  # type: ignore[arg-type]  # the band is on top now
    assert min(image.getpixel((960, 2500))) > 215  # type: ignore[arg-type]


def test_two_residents_sending_the_same_picture_at_once_both_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both saves reach the final rename before either of them does it.
    both_written = threading.Barrier(2, timeout=10)
    real_replace = os.replace

    def replace_together(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        both_written.wait()
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_together)
    store = PhotoStore(tmp_path)
    content = jpeg_of(Image.new("RGB", (800, 600), "orange"))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(store.save, [content, content]))
    assert results[0] == results[1]
    assert (tmp_path / results[0].path).is_file()
    assert [p.name for p in (tmp_path / results[0].path).parent.iterdir()] == [
        Path(results[0].path).name
    ]


def test_a_picture_that_would_not_fit_the_memory_budget_is_refused(tmp_path: Path) -> None:
    # 7000 x 7000 true colour: 196 MB once decoded, from a file of 160 KB.
    content = striped_png(7000, 7000, RGB)
    assert len(content) < 200_000
    with pytest.raises(InvalidImageError):
        PhotoStore(tmp_path).save(content)
    assert not (tmp_path / "photos").exists()


def test_a_decompression_bomb_header_is_refused_before_decoding(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError):
        PhotoStore(tmp_path).save(header_only_png(60_000, 60_000))


def test_a_truncated_picture_is_refused(tmp_path: Path) -> None:
    content = jpeg_of(Image.new("RGB", (300, 200), "red"))
    with pytest.raises(InvalidImageError):
        PhotoStore(tmp_path).save(content[: len(content) // 2])


def test_the_reduction_in_bands_joins_without_seams() -> None:
    photo = Image.linear_gradient("L").resize((3001, 2999)).convert("RGB")
    draw = ImageDraw.Draw(photo)
    for y in range(0, 2999, 7):  # thin lines everywhere, across every border between bands
        draw.line((0, y, 3000, y), fill=(200, 20, 20), width=2)
    for size in [(2560, 2558), (1100, 1099), (333, 332)]:
        banded = _downscale(photo, size)
        whole = photo.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)
        channels = ImageChops.difference(banded, whole).split()
        assert all(c.point(lambda v: 255 if v > 1 else 0).getbbox() is None for c in channels)


async def test_the_resident_is_told_when_a_picture_is_refused(bot: Bot) -> None:
    await bot.play(
        "ivo",
        [
            ("/start", ["Choose your language"]),
            (Press("lang:en"), ["Language set: English."]),
            (Press("menu:report"), ["What kind of problem is it?"]),
            (Press("cat:other"), ["Describe the problem"]),
            ("A broken bench in the park", ["Send up to 3 photos"]),
            (Picture(striped_png(7000, 7000, RGB)), ["not a picture I can read", "Send up to"]),
            (Picture(striped_png(7000, 7000)), ["Photo 1 of 3 added."]),
        ],
    )


async def test_an_albums_photo_over_the_limit_is_not_kept_on_disk(bot: Bot) -> None:
    await bot.play("ivo", [
        ("/start", ["Choose your language"]),
        (Press("lang:en"), ["Language set: English."]),
        (Press("menu:report"), ["What kind of problem is it?"]),
        (Press("cat:other"), ["Describe the problem"]),
        ("A broken bench in the park", ["Send up to 3 photos"]),
        (Picture(jpeg("red"), album="a1"), ["Photo 1 of 3 added."]),
        (Picture(jpeg("blue"), album="a1"), ["Photo 2 of 3 added."]),
        (Picture(jpeg("green"), album="a1"), ["Photo 3 of 3 added.", "Where is the problem?"]),
        (Picture(jpeg("navy"), album="a1"), ["A report has at most 3 photos"]),
        (Pin(42.9665, 22.1285), ["Please check your report", "Photos: 3"]),
        (Press("sum:confirm"), ["VLA-2026-00001"]),
    ])  # fmt: skip
    stored = await reports.get_report(bot.app.db.conn, 1)
    assert stored is not None
    assert photo_files(bot.app) == set(stored.photo_paths)
    assert len(stored.photo_paths) == 3


def test_the_same_picture_saved_again_counts_as_saved_now(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    first = store.save(jpeg("red"))
    long_ago = time.time() - 30 * 24 * 3600
    os.utime(tmp_path / first.path, (long_ago, long_ago))
    assert store.save(jpeg("red")) == first
    assert (tmp_path / first.path).stat().st_mtime > long_ago + 29 * 24 * 3600


async def test_a_cancelled_reports_photo_is_deleted_once_a_day_old(bot: Bot) -> None:
    writing: list[DialogInput] = [
        Press("menu:report"), Press("cat:other"), "A broken bench in the park"
    ]  # fmt: skip
    for item in ["/start", Press("lang:en"), *writing]:
        await bot.say("ivo", item)
    await bot.play("ivo", [
        (Picture(jpeg("red")), ["Photo 1 of 3 added."]),
        ("/cancel", ["The report was cancelled."]),
    ])  # fmt: skip
    for item in writing:
        await bot.say("ivo", item)
    await bot.play("ivo", [(Picture(jpeg("blue")), ["Photo 1 of 3 added."])])  # a draft's
    (cancelled,) = photo_files(bot.app) - set(await draft_photos(bot))
    sweep = find_job(bot.app.deps.registry, "privacy-unused-photos")
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, sweep)
    assert cancelled in photo_files(bot.app)  # not a day old: maybe in a step not committed yet
    bot.clock.advance(days=2)
    day_ago = (bot.clock.now() - timedelta(days=1, minutes=1)).timestamp()
    assert bot.app.db.path is not None
    for name in photo_files(bot.app):
        os.utime(bot.app.db.path.parent / name, (day_ago, day_ago))
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, sweep)
    assert photo_files(bot.app) == set(await draft_photos(bot))
    assert len(photo_files(bot.app)) == 1


async def draft_photos(bot: Bot) -> list[str]:
    """The photos of the reports being written."""
    rows = await fetch_all(bot.app.db.conn, "SELECT draft FROM conversations")
    return [str(p["path"]) for r in rows for p in json.loads(r[0] or "{}").get("photos", [])]
