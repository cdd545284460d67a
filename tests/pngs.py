"""PNG files written row by row, so that a 7000x7000 picture costs the test only its few KB."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

# Colour types of the PNG header: bytes per pixel.
GRAY, RGB, PALETTE = 0, 2, 3
_CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def striped_png(width: int, height: int, colour_type: int = PALETTE, stripe: int = 500) -> bytes:
    """A PNG of diagonal blocks of four colours; its rows repeat, so it compresses about 1000:1."""

    def row(y: int) -> bytes:
        values = bytes((x // stripe + y // stripe) % 4 for x in range(width))
        if colour_type == PALETTE:
            return values
        scaled = bytes(v * 80 for v in values)
        return scaled if colour_type == GRAY else bytes(c for v in scaled for c in (v, 255 - v, 90))

    return png(width, height, colour_type, row, band=stripe)


def png(
    width: int, height: int, colour_type: int, row: Callable[[int], bytes], band: int = 1
) -> bytes:
    """Encode ``row(y)`` for each y (a row is recomputed only every ``band`` rows)."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    chunks = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header)]
    if colour_type == PALETTE:
        palette = bytes((200, 30, 30, 30, 200, 30, 30, 30, 200, 240, 240, 240))
        chunks.append(_chunk(b"PLTE", palette))
    packer = zlib.compressobj(9)
    data = []
    # Filter "Up" (2) turns a row equal to the one above into zeros, which deflate packs best.
    same_as_above = b"\x02" + bytes(width * _CHANNELS[colour_type])
    for y in range(height):
        if y % band == 0:
            line = b"\x00" + row(y)
            assert len(line) == len(same_as_above)
            data.append(packer.compress(line))
        else:
            data.append(packer.compress(same_as_above))
    data.append(packer.flush())
    chunks += [_chunk(b"IDAT", b"".join(data)), _chunk(b"IEND", b"")]
    return b"".join(chunks)


def header_only_png(width: int, height: int) -> bytes:
    """A PNG that claims a size and holds almost no data: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, RGB, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", idat),
            _chunk(b"IEND", b""),
        ]
    )
