"""Photos on disk under the data folder, by content hash, with EXIF and other metadata removed."""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Images larger than this many pixels are refused rather than decoded (decompression bombs).
MAX_PIXELS = 50_000_000


class InvalidImageError(Exception):
    """The file is not an image that can be read."""


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

    def save(self, content: bytes) -> StoredPhoto:
        """Re-encode the image without metadata and store it; the same photo is stored once.

        Raises:
            ImageTooLargeError: over 10 MB.
            InvalidImageError: not a readable image.
        """
        if len(content) > MAX_PHOTO_BYTES:
            raise ImageTooLargeError
        clean = strip_metadata(content)
        digest = hashlib.sha256(clean).hexdigest()
        relative = Path("photos") / digest[:2] / f"{digest}.jpg"
        target = self.data_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a crash never leaves half a photo under its final name.
            partial = target.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(clean)
            partial.replace(target)
        return StoredPhoto(relative.as_posix(), digest)


def strip_metadata(content: bytes) -> bytes:
    """Decode an image and encode its pixels alone as JPEG (no EXIF, GPS or device data)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise InvalidImageError
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # fmt: skip
        raise InvalidImageError from e
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
