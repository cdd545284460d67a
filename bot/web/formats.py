"""Open311's two formats: XML (required; the UTF-8 declaration first) and JSON mirroring it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

XML_TYPE = "text/xml"
JSON_TYPE = "application/json"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The element of one item in each list the GeoReport v2 documents have.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
}
Document = Mapping[str, Any] | Sequence[Mapping[str, Any]]
# What XML 1.0 cannot carry at all, not even escaped: control characters (a pasted ESC or NUL in
# a description), lone surrogates and U+FFFE/U+FFFF. One of them would make a whole list
# unreadable for every client, so each is written as U+FFFD, the replacement character.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_of(value: object) -> str:
    """A value as XML text: booleans as true/false, times in ISO 8601, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _write(out: list[str], tag: str, value: object) -> None:
    # Written as text, not built as an ElementTree: ten times faster for a list of 1,000.
    if isinstance(value, Mapping):
        out.append(f"<{tag}>")
        for key, inner in value.items():
            _write(out, key, inner)
        out.append(f"</{tag}>")
    elif isinstance(value, list | tuple):
        item = ITEMS.get(tag, "item")
        out.append(f"<{tag}>")
        for inner in value:
            _write(out, item, inner)
        out.append(f"</{tag}>")
    else:
        text = text_of(value)
        out.append(
            f"<{tag}>{escape(NOT_XML.sub(chr(0xFFFD), text))}</{tag}>" if text else f"<{tag}/>"
        )


def to_xml(root: str, document: Document) -> str:
    """The document under ``root``: a list's items as its item elements, a mapping's keys."""
    out = [XML_DECLARATION]
    _write(out, root, document)
    return "".join(out)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    raise TypeError(f"not JSON: {type(value).__name__}")


def respond(fmt: str, root: str, document: Document, status: int = 200) -> web.Response:
    """An answer in ``fmt`` (xml or json) with the charset the spec asks for."""
    if fmt == "json":
        body = json.dumps(document, ensure_ascii=False, default=_json_default)
        return web.Response(text=body, status=status, content_type=JSON_TYPE, charset="utf-8")
    return web.Response(
        text=to_xml(root, document), status=status, content_type=XML_TYPE, charset="utf-8"
    )


def item_text(fmt: str, root: str, item: Mapping[str, Any]) -> str:
    """One item of the list under ``root``, written alone (joined by ``respond_items``)."""
    if fmt == "json":
        return json.dumps(item, ensure_ascii=False, default=_json_default)
    out: list[str] = []
    _write(out, ITEMS[root], item)
    return "".join(out)


def respond_items(fmt: str, root: str, items: Sequence[str]) -> web.Response:
    """A list answer from its items' texts: the same bytes ``respond`` writes for the list."""
    if fmt == "json":
        body = "[" + ", ".join(items) + "]"
        return web.Response(text=body, content_type=JSON_TYPE, charset="utf-8")
    body = f"{XML_DECLARATION}<{root}>{''.join(items)}</{root}>"
    return web.Response(text=body, content_type=XML_TYPE, charset="utf-8")


class ApiError(Exception):
    """An error the client is told of: the HTTP status and Open311's code and description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def error_response(fmt: str, error: ApiError) -> web.Response:
    """Open311's errors: ``<errors><error>`` in XML, an array of {code, description} in JSON."""
    document = [{"code": error.status, "description": error.description}]
    return respond(fmt, "errors", document, status=error.status)
