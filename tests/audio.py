"""Small audio files for tests: Ogg Opus voice notes built page by page (no encoder needed).

The pages are real Ogg pages (mutagen writes them, CRCs and all) with a real OpusHead and
OpusTags; the length is the last page's granule position, as in a recorded voice note.
"""

from __future__ import annotations

import struct

from mutagen.ogg import OggPage

PRE_SKIP = 312
RATE = 48_000


def ogg_opus(seconds: float, tags: dict[str, str] | None = None, *, serial: int = 7) -> bytes:
    """An Ogg Opus voice note of ``seconds``, with ``tags`` in its OpusTags."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", PRE_SKIP, RATE, 0, 0)
    comments = [f"{k}={v}".encode() for k, v in (tags or {}).items()]
    vendor = b"tests"
    tags_packet = (
        b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
        + b"".join(struct.pack("<I", len(c)) + c for c in comments)
    )  # fmt: skip
    audio = b"\xfc" + bytes(40)  # one 20 ms frame's packet (silence is not checked)
    pages = []
    contents = [([head], 0), ([tags_packet], 0), ([audio], PRE_SKIP + round(seconds * RATE))]
    for sequence, (packets, position) in enumerate(contents):
        page = OggPage()  # type: ignore[no-untyped-call]  # mutagen has no types here
        page.serial, page.sequence, page.packets, page.position = (
            serial,
            sequence,
            packets,
            position,
        )
        page.first, page.last = sequence == 0, sequence == len(contents) - 1
        pages.append(page.write())  # type: ignore[no-untyped-call]
    return b"".join(pages)
