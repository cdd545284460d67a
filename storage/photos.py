"""Photos on disk under the data folder, by content hash, with EXIF and other metadata removed.

A stored photo fits every messenger we send it to: its long side is at most 2,560 px (so width
plus height stays far below Telegram's 10,000), its sides are at most 20:1 (Telegram refuses
more; a narrower picture gets white borders rather than losing a part of it), and the JPEG is at
most 1 MB (Viber's limit for a picture).

Decoding is where the memory goes: a 60 KB PNG can hold 7000 x 7000 pixels. So the size is read
from the header first and a picture that cannot be decoded within the memory budget is refused,
JPEGs are decoded already reduced (``Image.draft``), the reduction runs in bands of rows (never a
full-size RGB copy), and decodes run one at a time in one thread.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

FOLDER = "photos"  # under the data folder
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2560
MAX_RATIO = 20
MAX_STORED_BYTES = 1_000_000
# What one decode may use (see ``_memory_cost``): a 7000 x 7000 palette PNG (49 MB decoded)
# fits, the same in true colour (196 MB) does not. Decodes run one at a time (see PhotoStore).
MEMORY_BUDGET = 96 * 1024 * 1024
# Rows of the stored picture made per band: the band of source rows behind them stays small.
BAND_ROWS = 32
QUALITIES = (85, 75, 65, 55)
PAD_COLOUR = (255, 255, 255)

# What Pillow keeps per pixel: 1 byte for these modes, 2 for 16-bit grey, 4 for all the others
# (RGB included: Pillow stores it with a fourth, unused byte).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class InvalidImageError(Exception):
    """The file is not an image that can be read (or not within the memory budget)."""


class ImageTooLargeError(Exception):
    """The file is larger than the bot accepts."""


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A photo saved on disk; ``path`` is relative to the data folder."""

    path: str
    sha256: str


class PhotoStore:
    """Saves residents' photos as clean JPEGs named by the hash of their content."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        # Every decode runs in this one thread, one after the other: the memory a decode frees is
        # reused by the next one. Decodes in the callers' threads each kept their own malloc
        # arena, so six large photos at once held 500 MB even when they ran one at a time.
        self._decoder = ThreadPoolExecutor(1, thread_name_prefix="photo-decode")

    def save(self, content: bytes) -> StoredPhoto:
        """Re-encode the image small and without metadata, and store it; the same photo once.

        Safe to call from several threads at once, with the same content too.

        Raises:
            ImageTooLargeError: over 10 MB.
            InvalidImageError: not a readable image, or too many pixels to decode within
                ``MEMORY_BUDGET``.
        """
        if len(content) > MAX_PHOTO_BYTES:
            raise ImageTooLargeError
        clean = self._decoder.submit(clean_photo, content).result()
        digest = hashlib.sha256(clean).hexdigest()
        relative = Path(FOLDER) / digest[:2] / f"{digest}.jpg"
        target = self.data_dir / relative
        if not _touch(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, clean)
        return StoredPhoto(relative.as_posix(), digest)


def _touch(target: Path) -> bool:
    """Mark a stored photo saved now (False when there is none): the same picture sent again
    counts from now, so the sweep of photos nothing names spares it while its step commits."""
    try:
        os.utime(target)
    except FileNotFoundError:
        return False
    return True


def saved_between(data_dir: Path, since: datetime, before: datetime) -> list[str]:
    """The photos last saved from ``since`` until ``before``, relative to the data folder."""
    root, low, high = data_dir / FOLDER, since.timestamp(), before.timestamp()
    return sorted(
        p.relative_to(data_dir).as_posix()
        for p in root.glob("*/*.jpg")
        if p.is_file() and low <= p.stat().st_mtime < high
    )


def write_atomically(target: Path, content: bytes) -> None:
    """Write under a name of this write's own, then rename: never half a file, never a clash."""
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=target.stem, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(content)
        os.replace(partial, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def clean_photo(content: bytes) -> bytes:
    """Decode an image within the memory budget and encode its pixels alone as a JPEG that fits.

    Raises:
        InvalidImageError: not a readable image, or too many pixels for ``MEMORY_BUDGET``.
    """
    try:
        with Image.open(io.BytesIO(content)) as image:
            size = stored_size(image.size)
            image.draft("RGB", size)  # a JPEG decodes directly at 1/2, 1/4 or 1/8 of its size
            if _memory_cost(image, size) > MEMORY_BUDGET:
                raise InvalidImageError
            image.load()
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            small = _downscale(image, size)
            image.close()  # frees the decoded pixels before the copies below
            return _encode(_pad_to_ratio(_upright(small, orientation)))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # fmt: skip
        raise InvalidImageError from e


def stored_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size a picture is stored at: the long side at most ``MAX_SIDE``, the ratio kept."""
    width, height = size
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """Turn the pixels as the camera's EXIF orientation says (the EXIF itself is not kept)."""
    method = _TRANSPOSE.get(orientation)
    return image if method is None else image.transpose(method)


def _memory_cost(image: Image.Image, size: tuple[int, int]) -> int:
    """Estimate the peak bytes of decoding ``image`` (as drafted) and reducing it to ``size``.

    The decoded pixels, a band of source rows converted to RGB, and the reduced picture; after
    the decoded pixels are freed, two reduced copies (turning, padding) and the encoded JPEGs.
    """
    width, height = image.size
    decoded = width * height * _BYTES_PER_PIXEL.get(image.mode, 4)
    band = width * _band_source_rows(height / size[1]) * 4 * 2
    reduced = size[0] * size[1] * 4
    return max(decoded + band + reduced, 2 * reduced) + 2 * MAX_STORED_BYTES


def _band_source_rows(scale: float) -> int:
    return math.ceil(BAND_ROWS * scale) + 2 * _margin(scale) + 2 * math.ceil(scale)


def _margin(scale: float) -> int:
    """Source rows around a band that the filter reads (Lanczos: 3 output rows either side)."""
    return math.ceil(3 * max(scale, 1.0)) + 1


def _downscale(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize to ``size`` as RGB, band by band, converting only one band of the source at a time.

    As Pillow's ``resize(..., reducing_gap=1.0)`` (and JPEG's draft), the pixels are first
    averaged by the whole part of the scale, then resampled with Lanczos. Each band of output
    rows is made from the source rows under it plus the filter's margin, its top on the grid of
    the averaging, so the bands join without seams.
    """
    if image.size == size:
        return image.convert("RGB")
    width, height = image.size
    scale_y = height / size[1]
    factor = (max(1, int(width / size[0])), max(1, int(scale_y)))
    step = factor[1]
    margin = _margin(scale_y)
    out = Image.new("RGB", size)
    for top in range(0, size[1], BAND_ROWS):
        bottom = min(top + BAND_ROWS, size[1])
        first = max(0, math.floor(top * scale_y) - margin) // step * step
        last = min(height, math.ceil((math.ceil(bottom * scale_y) + margin) / step) * step)
        band = image.crop((0, first, width, last)).convert("RGB").reduce(factor)
        box = (
            0.0,
            (top * scale_y - first) / step,
            width / factor[0],
            (bottom * scale_y - first) / step,
        )
        out.paste(band.resize((size[0], bottom - top), Image.Resampling.LANCZOS, box=box), (0, top))
    return out


def _pad_to_ratio(image: Image.Image) -> Image.Image:
    """Add white borders to a picture narrower than 1:20, so Telegram takes it whole."""
    long, short = max(image.size), min(image.size)
    if long <= MAX_RATIO * short:
        return image
    needed = math.ceil(long / MAX_RATIO)
    size = (long, needed) if image.width > image.height else (needed, long)
    return ImageOps.pad(image, size, color=PAD_COLOUR)


def _encode(image: Image.Image) -> bytes:
    """Encode as JPEG under ``MAX_STORED_BYTES``: lower the quality, then halve the size."""
    for quality in QUALITIES:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_STORED_BYTES:
            return out.getvalue()
    half = (max(1, image.width // 2), max(1, image.height // 2))
    return _encode(_pad_to_ratio(image.resize(half, Image.Resampling.LANCZOS)))
