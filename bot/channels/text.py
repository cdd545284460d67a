"""Splitting long texts into messages a messenger accepts; no messenger SDK is imported here."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit messengers count in (an emoji counts as two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Split a text into parts of at most ``limit`` UTF-16 units, at a line break or space."""
    parts: list[str] = []
    while utf16_len(text) > limit:
        cut = _fit(text, limit)
        # A line break reads best, a space next; a hard cut only in a very long word.
        for separator in ("\n", " "):
            boundary = text.rfind(separator, 0, cut)
            if boundary > cut // 2:
                cut = boundary
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return parts


def _fit(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)
