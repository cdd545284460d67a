"""A fake Telegram Bot API server for tests, checked against the Bot API spec.

The fake speaks the Bot API over HTTP on 127.0.0.1, so the real
python-telegram-bot talks to it as it would to Telegram. Every request is
checked against ``tests/data/telegram-bot-api.json`` (the Bot API as data): an
unknown method, an unknown or missing parameter, or a value of the wrong type is
refused with the status and description that Telegram would answer, so a test
fails where the real Telegram would refuse the call.

In a test (same event loop)::

    fake = FakeTelegramApi()
    await fake.start()
    bot = telegram.Bot(fake.token, base_url=fake.base_url,
                       base_file_url=fake.base_file_url)
    fake.push_text(42, "hello")
    ...
    await fake.stop()

On its own, for end-to-end tests and benchmarks in other processes::

    python -m tests.fakes.telegram_api --port 8081

prints one JSON line with its URLs once it listens, and serves a control API
under ``/_fake/`` next to the Bot API (see ``FakeTelegramApi._control_routes``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import functools
import hashlib
import html
import itertools
import json
import re
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

JSONDict = dict[str, Any]
T = TypeVar("T")

# A fake token, written in two parts so that secret scanners do not take it for a real one.
DEFAULT_TOKEN = "7000000001:" + "AAFakeTokenForTestsOnly_0123456789ab"
SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "telegram-bot-api.json"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
LONG_POLL_MAX_TIMEOUT = 50.0

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update kinds that Telegram leaves out unless they are asked for by name.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# --------------------------------------------------------------------------- errors


class TelegramApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        """Make an error answer with Telegram's ``description`` text."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSONDict:
        """Return the body that Telegram sends with this error."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> TelegramApiError:
    """Return a 400 error whose description is ``Bad Request: <detail>``."""
    return TelegramApiError(400, f"Bad Request: {detail}")


class SpecMismatchError(Exception):
    """A value does not fit the types that the spec gives for it."""

    def __init__(self, path: str, problem: str) -> None:
        """Record where (``path``) the value went wrong and how."""
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem

    @property
    def depth(self) -> int:
        """How deep in the value the problem is (deeper is more telling)."""
        return self.path.count(".") + self.path.count("[")


class EntityParseError(Exception):
    """Formatted text (HTML or Markdown) that Telegram cannot parse."""


# ----------------------------------------------------------------------------- spec

_ARRAY_OF = "Array of "
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_MUST_BE_RE = re.compile(r"must be ([A-Za-z_]+)")


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or one field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    """One Bot API method: its parameters and what it returns."""

    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    """One Bot API type: its fields, or the subtypes it stands for."""

    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]
    discriminator: str | None


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    filename: str | None
    content_type: str
    content: bytes

    def to_json(self) -> JSONDict:
        """Describe the upload without its content."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
        }


def _fields(raw: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"])) for f in raw}


class BotApiSpec:
    """The Bot API as data (methods and types), with a checker for values."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Index the methods and types of the spec JSON ``data``."""
        self.version: str = str(data.get("version", ""))
        self.methods: dict[str, MethodSpec] = {}
        for name, raw in data["methods"].items():
            self.methods[name] = MethodSpec(
                name, _fields(raw.get("fields", [])), tuple(raw.get("returns", []))
            )
        self._methods_lower = {name.lower(): spec for name, spec in self.methods.items()}
        self.types: dict[str, TypeSpec] = {}
        for name, raw in data["types"].items():
            fields = _fields(raw.get("fields", []))
            discriminator = None
            kind = fields.get("type")
            if raw.get("subtype_of") and kind and kind.required:
                for f in raw.get("fields", []):
                    match = _MUST_BE_RE.search(f["description"])
                    if f["name"] == "type" and match:
                        discriminator = match.group(1)
            self.types[name] = TypeSpec(name, fields, tuple(raw.get("subtypes", [])), discriminator)

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> BotApiSpec:
        """Read the spec from a JSON file."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def method(self, name: str) -> MethodSpec | None:
        """Return the method called ``name`` (case-insensitive, as Telegram)."""
        return self._methods_lower.get(name.lower())

    def check(self, value: object, type_name: str) -> None:
        """Raise SpecMismatchError unless ``value`` is a valid ``type_name`` object.

        Useful to check that objects made by the fake (updates, messages) have
        every required field and no field that the type lacks.
        """
        self.decode(value, (type_name,))

    def decode(
        self,
        value: object,
        types: Sequence[str],
        *,
        path: str = "",
        uploads: Mapping[str, UploadedFile] | None = None,
        top_level: bool = False,
    ) -> Any:
        """Check ``value`` against the first of ``types`` that fits; return it decoded.

        At the top level (a request parameter) values may come as strings, as
        form fields do: they are converted by the expected type, and JSON
        objects and arrays are parsed. Nested values must have the JSON type.
        """
        if len(types) > 1 and all(t.startswith(_ARRAY_OF) for t in types):
            # The spec writes "Array of A, B" (sendMediaGroup) as one array
            # type per item type, but the items may be mixed.
            items = "|".join(t.removeprefix(_ARRAY_OF) for t in types)
            types = (_ARRAY_OF + items,)
        errors: list[SpecMismatchError] = []
        for type_name in types:
            try:
                return self._decode_one(value, type_name, path, uploads or {}, top_level)
            except SpecMismatchError as exc:
                errors.append(exc)
        deepest = max(errors, key=lambda e: e.depth)
        if deepest.path == path:
            raise SpecMismatchError(path, "must be " + " or ".join(types))
        raise deepest

    def _decode_one(
        self,
        value: object,
        type_name: str,
        path: str,
        uploads: Mapping[str, UploadedFile],
        top_level: bool,
    ) -> Any:
        mismatch = SpecMismatchError(path, f"must be {type_name}")
        if type_name == "Integer":
            if isinstance(value, bool):
                raise mismatch
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if top_level and isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
                return int(value)
            raise mismatch
        if type_name == "Float":
            if isinstance(value, bool):
                raise mismatch
            if isinstance(value, int | float):
                return value
            if top_level and isinstance(value, str) and _FLOAT_RE.fullmatch(value.strip()):
                return float(value)
            raise mismatch
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if top_level and isinstance(value, str | int):
                text = str(value).strip().lower()
                if text in ("true", "1"):
                    return True
                if text in ("false", "0"):
                    return False
            raise mismatch
        if type_name == "String":
            if isinstance(value, str):
                return value
            # Telegram turns top-level JSON numbers into strings.
            if top_level and isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise mismatch
        if type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return f"attach://{value.name}"
            if (
                isinstance(value, str)
                and value.startswith("attach://")
                and value.removeprefix("attach://") in uploads
            ):
                return value
            raise SpecMismatchError(path, "must be an uploaded file (InputFile)")
        if top_level and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise SpecMismatchError(path, "can't parse JSON") from None
        if type_name.startswith(_ARRAY_OF):
            item_types = tuple(type_name.removeprefix(_ARRAY_OF).split("|"))
            if not isinstance(value, list):
                raise SpecMismatchError(path, f"must be an {type_name.replace('|', ' or ')}")
            return [
                self.decode(item, item_types, path=f"{path}[{i}]", uploads=uploads)
                for i, item in enumerate(value)
            ]
        spec = self.types.get(type_name)
        if spec is None:
            raise SpecMismatchError(path, f"unknown type {type_name} in the spec")
        if not isinstance(value, dict):
            raise SpecMismatchError(path, f"must be a JSON object ({type_name})")
        if spec.subtypes:
            return self._decode_subtype(value, spec, path, uploads)
        return self._decode_object(value, spec, path, uploads)

    def _decode_subtype(
        self,
        value: Mapping[str, Any],
        spec: TypeSpec,
        path: str,
        uploads: Mapping[str, UploadedFile],
    ) -> Any:
        candidates = list(spec.subtypes)
        tagged = [
            name
            for name in candidates
            if name in self.types and self.types[name].discriminator is not None
        ]
        if tagged:
            kind = value.get("type")
            chosen = [name for name in tagged if self.types[name].discriminator == kind]
            if not chosen:
                raise SpecMismatchError(
                    _join(path, "type"), f"unsupported {spec.name} type {kind!r}"
                )
            candidates = chosen
        return self.decode(value, candidates, path=path, uploads=uploads)

    def _decode_object(
        self,
        value: Mapping[str, Any],
        spec: TypeSpec,
        path: str,
        uploads: Mapping[str, UploadedFile],
    ) -> JSONDict:
        out: JSONDict = {}
        for key, item in value.items():
            field_spec = spec.fields.get(key)
            if field_spec is None:
                raise SpecMismatchError(_join(path, key), f"{spec.name} has no field {key!r}")
            out[key] = self.decode(item, field_spec.types, path=_join(path, key), uploads=uploads)
        for field_spec in spec.fields.values():
            if field_spec.required and field_spec.name not in value:
                raise SpecMismatchError(
                    _join(path, field_spec.name),
                    f"required field of {spec.name} is missing",
                )
        if spec.discriminator is not None and value.get("type") != spec.discriminator:
            raise SpecMismatchError(_join(path, "type"), f"must be {spec.discriminator!r}")
        return out

    def decode_params(
        self,
        method: MethodSpec,
        params: Mapping[str, object],
        uploads: Mapping[str, UploadedFile],
    ) -> JSONDict:
        """Check the parameters of one call of ``method``; return them decoded.

        Raises:
            TelegramApiError: a 400 answer naming what is wrong.
        """
        for name in params:
            if name not in method.fields:
                raise bad_request(f"unknown parameter {name!r} of method {method.name}")
        out: JSONDict = {}
        for spec in method.fields.values():
            raw: object = params.get(spec.name)
            if raw is None and spec.name in uploads and "InputFile" in spec.types:
                raw = uploads[spec.name]
            # Telegram reads an empty parameter as an absent one.
            if raw is None or raw == "":
                continue
            try:
                out[spec.name] = self.decode(
                    raw, spec.types, path=spec.name, uploads=uploads, top_level=True
                )
            except SpecMismatchError as exc:
                raise bad_request(f"invalid parameter {spec.name!r}: {exc}") from None
        for spec in method.fields.values():
            if spec.required and spec.name not in out:
                raise _missing(method.name, spec.name)
        attached = set(_attachments(out))
        for name in uploads:
            if name not in attached:
                raise bad_request(f"file {name!r} was uploaded but is not used")
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _missing(method: str, name: str) -> TelegramApiError:
    if name == "chat_id":
        return bad_request("chat_id is empty")
    if name == "text" and method == "sendMessage":
        return bad_request("message text is empty")
    return bad_request(f"parameter {name!r} is required")


def _attachments(value: object) -> Iterable[str]:
    """Yield the part names that ``attach://`` strings in ``value`` refer to."""
    if isinstance(value, str) and value.startswith("attach://"):
        yield value.removeprefix("attach://")
    elif isinstance(value, list):
        for item in value:
            yield from _attachments(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _attachments(item)


# ------------------------------------------------------------------ formatted text


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_HTML_ESCAPE_RE = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
_HTML_ATTR_RE = re.compile(r"""\s*([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into plain text and entities (UTF-16 offsets).

    Raises:
        EntityParseError: with the text that Telegram puts after
            ``Bad Request: can't parse entities:``.
    """
    out: list[str] = []
    pos = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            match = _HTML_ESCAPE_RE.match(text, i)
            piece = html.unescape(match.group(0)) if match else "&"
            i = match.end() if match else i + 1
        elif char != "<":
            piece = char
            i += 1
        elif text.startswith("</", i):
            end = text.find(">", i)
            if end == -1:
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            tag = stack.pop()
            if name != tag.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{tag.name}>", found "</{name}>"'
                )
            _close_html_tag(tag, stack, pos, entities)
            i = end + 1
            continue
        else:
            i = _open_html_tag(text, i, pos, stack)
            continue
        out.append(piece)
        pos += utf16_len(piece)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_html_tag(text: str, start: int, pos: int, stack: list[_OpenTag]) -> int:
    j = start + 1
    while j < len(text) and not text[j].isspace() and text[j] not in "/>":
        j += 1
    name = text[start + 1 : j].lower()
    if name not in _HTML_TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, start)}'
        )
    end = text.find(">", j)
    if end == -1:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
    attrs: dict[str, str] = {}
    for match in _HTML_ATTR_RE.finditer(text[j:end]):
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = html.unescape(value)
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    stack.append(_OpenTag(name, attrs, pos))
    return end + 1


def _close_html_tag(
    tag: _OpenTag, stack: list[_OpenTag], pos: int, entities: list[JSONDict]
) -> None:
    length = pos - tag.offset
    kind = _HTML_TAGS[tag.name]
    language = tag.attrs.get("class", "")
    if kind == "code" and stack and stack[-1].name == "pre" and language.startswith("language-"):
        # <pre><code class="language-x"> is one pre entity with a language.
        stack[-1].attrs["language"] = language.removeprefix("language-")
        return
    if length <= 0:
        return
    entity: JSONDict = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        href = tag.attrs.get("href")
        if not href:
            return
        entity["url"] = href
    elif kind == "pre" and "language" in tag.attrs:
        entity["language"] = tag.attrs["language"]
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    elif kind == "date_time":
        unix = tag.attrs.get("unix", "0")
        entity["unix_time"] = int(unix) if _INT_RE.fullmatch(unix) else 0
    entities.append(entity)


_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}
_MDV2_DELIMITERS = {
    "bold": "*",
    "italic": "_",
    "underline": "__",
    "strikethrough": "~",
    "spoiler": "||",
}


def parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """Parse MarkdownV2 into plain text and entities, as Telegram does.

    Covers bold, italic, underline, strikethrough, spoiler, code, pre, links
    and block quotes, and refuses reserved characters that are not escaped.

    Raises:
        EntityParseError: with Telegram's description of the problem.
    """
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, int, int]] = []  # kind, utf-16 offset, byte offset
    entities: list[JSONDict] = []
    quote_start: int | None = None
    i = 0

    def emit(piece: str) -> None:
        nonlocal pos
        out.append(piece)
        pos += utf16_len(piece)

    while i < len(text):
        char = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if char == "\n" and quote_start is not None and not text.startswith(">", i + 1):
            entities.append(
                {"type": "blockquote", "offset": quote_start, "length": pos - quote_start}
            )
            quote_start = None
        if char == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        if char not in _MDV2_RESERVED:
            emit(char)
            i += 1
            continue
        if char == ">" and line_start:
            if quote_start is None:
                quote_start = pos
            i += 1
            continue
        if char == "`":
            i = _mdv2_code(text, i, pos, entities, emit)
            continue
        top = stack[-1][0] if stack else None
        if top == "text_link" and char == "]":
            i = _mdv2_link_end(text, i, pos, stack, entities)
            continue
        if top is not None and top != "text_link" and text.startswith(_MDV2_DELIMITERS[top], i):
            kind, offset, _ = stack.pop()
            if pos > offset:
                entities.append({"type": kind, "offset": offset, "length": pos - offset})
            i += len(_MDV2_DELIMITERS[kind])
            continue
        opening = _mdv2_opening(text, i)
        if opening is None:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        stack.append((opening, pos, _byte_offset(text, i)))
        i += 1 if opening == "text_link" else len(_MDV2_DELIMITERS[opening])
    if stack:
        kind, _, byte = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {byte}"
        )
    if quote_start is not None and pos > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": pos - quote_start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _mdv2_opening(text: str, i: int) -> str | None:
    if text.startswith("__", i):
        return "underline"
    if text.startswith("||", i):
        return "spoiler"
    return {"*": "bold", "_": "italic", "~": "strikethrough", "[": "text_link"}.get(text[i])


def _mdv2_code(
    text: str, i: int, pos: int, entities: list[JSONDict], emit: Callable[[str], None]
) -> int:
    """Read a code or pre entity starting at ``i``; return the index after it."""
    fence = "```" if text.startswith("```", i) else "`"
    start = i + len(fence)
    language = ""
    if fence == "```":
        newline = text.find("\n", start)
        first_line = text[start:newline] if newline != -1 else ""
        if newline != -1 and first_line and not any(c in first_line for c in "`\\ "):
            language = first_line
            start = newline + 1
    content: list[str] = []
    j = start
    while j < len(text):
        if text[j] == "\\" and j + 1 < len(text):
            content.append(text[j + 1])
            j += 2
            continue
        if text.startswith(fence, j):
            break
        content.append(text[j])
        j += 1
    else:
        kind = "Pre" if fence == "```" else "Code"
        raise EntityParseError(
            f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}"
        )
    body = "".join(content)
    if body:
        entity: JSONDict = {
            "type": "pre" if fence == "```" else "code",
            "offset": pos,
            "length": utf16_len(body),
        }
        if language:
            entity["language"] = language
        entities.append(entity)
        emit(body)
    return j + len(fence)


def _mdv2_link_end(
    text: str, i: int, pos: int, stack: list[tuple[str, int, int]], entities: list[JSONDict]
) -> int:
    """Close a ``[text](url)`` link at ``]``; return the index after it."""
    _, offset, _ = stack.pop()
    j = i + 1
    url = ""
    if text.startswith("(", j):
        end = j + 1
        chars: list[str] = []
        while end < len(text) and text[end] != ")":
            if text[end] == "\\" and end + 1 < len(text):
                end += 1
            chars.append(text[end])
            end += 1
        if end >= len(text):
            raise EntityParseError(
                f"Can't find end of a URL at byte offset {_byte_offset(text, j)}"
            )
        url = "".join(chars)
        j = end + 1
    if url and pos > offset:
        entities.append({"type": "text_link", "offset": offset, "length": pos - offset, "url": url})
    return j


def parse_markdown(text: str) -> tuple[str, list[JSONDict]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, code, pre, links).

    Raises:
        EntityParseError: for an entity that is not closed.
    """
    out: list[str] = []
    pos = 0
    entities: list[JSONDict] = []
    i = 0
    kinds = {"*": "bold", "_": "italic"}
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            piece, i = text[i + 1], i + 2
        elif char in "*_`[":
            fence = "```" if text.startswith("```", i) else "]" if char == "[" else char
            end = text.find(fence, i + (3 if fence == "```" else 1))
            if end == -1:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            piece = text[i + (3 if fence == "```" else 1) : end]
            entity: JSONDict = {"offset": pos, "length": utf16_len(piece)}
            i = end + len(fence)
            if char == "[":
                close = text.find(")", i) if text.startswith("(", i) else -1
                entity.update(type="text_link", url=text[i + 1 : close])
                i = close + 1 if close != -1 else i
                if close == -1:
                    entity = {}
            else:
                entity["type"] = kinds.get(char, "pre" if fence == "```" else "code")
            if entity and piece:
                entities.append(entity)
        else:
            piece, i = char, i + 1
        out.append(piece)
        pos += utf16_len(piece)
    return "".join(out), entities


def _strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding white space as Telegram does, keeping entities in place."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    """One request that the fake received."""

    index: int
    method: str
    params: JSONDict
    time: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    response: JSONDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the fake answered with success."""
        return self.status == 200

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer (None for an error)."""
        return self.response.get("result")

    def to_json(self) -> JSONDict:
        """Describe the call as JSON (uploads without their content)."""
        return {
            "index": self.index,
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "files": {name: f.to_json() for name, f in self.files.items()},
            "status": self.status,
            "response": self.response,
        }


@dataclass
class FakeFile:
    """A file that the fake stores and serves for download."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    kind: str | None = None
    filename: str | None = None
    mime_type: str | None = None
    width: int = 1280
    height: int = 960

    def to_file(self) -> JSONDict:
        """Return the Telegram ``File`` object (as getFile answers)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def photo_size(self) -> JSONDict:
        """Return this file as a Telegram ``PhotoSize``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "width": self.width,
            "height": self.height,
        }


@dataclass
class Failure:
    """An error to answer instead of serving the next matching calls."""

    method: str
    status: int
    description: str
    retry_after: int | None = None
    count: int = 1
    chat_id: int | str | None = None

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether a call of ``method`` with ``params`` should get this error."""
        if self.method not in ("*", method):
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)

    def error(self) -> TelegramApiError:
        """Return the error answer."""
        parameters = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return TelegramApiError(self.status, self.description, parameters)


@dataclass
class _Stored:
    message: JSONDict
    outgoing: bool
    deleted: bool = False


_FILE_PREFIX = {
    "photo": ("AgACAgIAAxkBAAI", "photos", "jpg"),
    "document": ("BQACAgIAAxkBAAI", "documents", "bin"),
    "sticker": ("CAACAgIAAxkBAAI", "stickers", "webp"),
    "voice": ("AwACAgIAAxkBAAI", "voice", "oga"),
    "video": ("BAACAgIAAxkBAAI", "videos", "mp4"),
    "audio": ("CQACAgIAAxkBAAI", "music", "mp3"),
    "animation": ("CgACAgIAAxkBAAI", "animations", "mp4"),
}
_PHOTO_WIDTHS = (90, 320, 800, 1280)

Handler = Callable[[JSONDict, Mapping[str, UploadedFile]], Awaitable[Any]]


@dataclass(frozen=True)
class _Described:
    """A result that Telegram sends with a ``description`` next to it."""

    result: Any
    description: str


# ----------------------------------------------------------------------------- fake


class FakeTelegramApi:
    """A Bot API server on 127.0.0.1 that checks requests against the spec.

    Tests control it through plain methods (``push_*`` to queue updates,
    ``calls`` and ``sent_messages`` to see what the bot did, ``fail_next`` to
    inject errors, ``add_file`` to serve downloads).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        spec: BotApiSpec | None = None,
        latency: float = 0.0,
        strict_chats: bool = False,
        check_answers: bool = True,
        bot_first_name: str = "Moja opština (test)",
        bot_username: str = "moja_opstina_test_bot",
    ) -> None:
        """Configure the fake; nothing listens until ``start()``.

        Args:
            token: the bot token that requests must carry.
            host: the address to listen on.
            port: the port to listen on; 0 picks a free one.
            spec: the Bot API spec; by default tests/data/telegram-bot-api.json.
            latency: seconds to wait before answering each Bot API request.
            strict_chats: refuse sending to a private chat that no update has
                come from ("Bad Request: chat not found"), as Telegram does.
            check_answers: check the fake's own answers and pushed updates
                against the spec too (an answer that does not fit is a 500).
            bot_first_name: the bot's name in getMe.
            bot_username: the bot's username in getMe.
        """
        self.token = token
        self.host = host
        self.port = port
        self.spec = spec or _default_spec()
        self.latency = latency
        self.strict_chats = strict_chats
        self.check_answers = check_answers
        self.bot_id = int(token.split(":", 1)[0]) if ":" in token else 1
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.webhook: JSONDict = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        self._calls: list[Call] = []
        self._failures: list[Failure] = []
        self._files: dict[str, FakeFile] = {}
        self._files_by_path: dict[str, FakeFile] = {}
        self._photo_groups: dict[str, list[str]] = {}
        self._updates: list[JSONDict] = []
        self._pushed: dict[int, JSONDict] = {}
        self._next_update_id = 100_000_001
        self._allowed_updates: list[str] = []
        self._messages: dict[int, dict[int, _Stored]] = {}
        self._next_message_id: dict[int, int] = {}
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._usernames: dict[str, int] = {}
        self._blocked: set[int] = set()
        self._open_callbacks: set[str] = set()
        self._counter = itertools.count(1)
        self._wake = asyncio.Event()
        self._poller: object | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            **{
                f"send{kind.capitalize()}": self._file_sender(kind)
                for kind in ("photo", "document", "voice", "audio", "video", "animation", "sticker")
            },
            "sendVenue": self._send_venue,
            "sendContact": self._send_contact,
            "forwardMessage": self._forward_message,
            "copyMessage": self._copy_message,
            "deleteMessages": self._delete_messages,
            "sendLocation": self._send_location,
            "sendMediaGroup": self._send_media_group,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The ``base_url`` for ``telegram.Bot`` (the token is appended to it)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The ``base_file_url`` for ``telegram.Bot``."""
        return f"{self.url}/file/bot"

    def make_app(self) -> web.Application:
        """Return the aiohttp application (Bot API, file downloads, control API)."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_download)
        for method, path, handler in self._control_routes():
            app.router.add_route(method, path, handler)
        return app

    async def start(self) -> None:
        """Start listening; ``port`` 0 becomes the free port that was picked."""
        if self._runner is not None:
            raise RuntimeError("the fake Telegram API is already running")
        self._closing = False
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Answer waiting long polls and stop listening."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegramApi:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    # ------------------------------------------------------------- test control

    @property
    def calls(self) -> list[Call]:
        """All Bot API requests received so far, oldest first (a copy)."""
        return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        """The requests of one method (e.g. ``"sendMessage"``), oldest first."""
        return [call for call in self._calls if call.method == method]

    def clear_calls(self) -> None:
        """Forget the recorded requests."""
        self._calls.clear()

    def sent_messages(self, chat_id: int | str) -> list[JSONDict]:
        """The bot's messages in a chat as they are now (after edits), oldest first.

        Deleted messages are left out. Each is a Telegram ``Message`` object;
        ``reply_markup`` is there only for inline keyboards, as in Telegram.
        """
        stored = self._messages.get(self._chat_key(chat_id), {})
        return [
            copy.deepcopy(s.message)
            for _, s in sorted(stored.items())
            if s.outgoing and not s.deleted
        ]

    def last_sent(self, chat_id: int | str) -> JSONDict:
        """The bot's latest message in a chat.

        Raises:
            LookupError: when the bot has sent nothing there.
        """
        messages = self.sent_messages(chat_id)
        if not messages:
            raise LookupError(f"the bot has sent no message to chat {chat_id}")
        return messages[-1]

    def update(self, update_id: int) -> JSONDict:
        """A pushed update by its id (to read the file ids it carries)."""
        return copy.deepcopy(self._pushed[update_id])

    @property
    def pending_updates(self) -> list[JSONDict]:
        """The updates that the bot has not confirmed yet."""
        return copy.deepcopy(self._updates)

    def fail_next(
        self,
        method: str,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``count`` valid calls of ``method`` with an error.

        Args:
            method: the Bot API method, or ``"*"`` for any.
            status: the HTTP status and ``error_code`` (429, 403, 500, ...).
            description: Telegram's description; by default one fitting the
                status (429: "Too Many Requests: retry after N", 403: "Forbidden:
                bot was blocked by the user", ...).
            retry_after: sent as ``parameters.retry_after`` (429 needs it).
            count: how many calls fail.
            chat_id: fail only calls to this chat.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            template = DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
            description = template.format(retry_after=retry_after)
        self._failures.append(Failure(method, status, description, retry_after, count, chat_id))

    def block(self, chat_id: int) -> None:
        """Make every later call to ``chat_id`` fail with 403 "bot was blocked"."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo ``block``."""
        self._blocked.discard(chat_id)

    async def wait_for(
        self,
        predicate: Callable[[list[Call]], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' own deadline, with a message
    ) -> T:
        """Wait until ``predicate(calls)`` is truthy; return what it returned.

        Raises:
            TimeoutError: after ``timeout`` seconds, naming the last calls.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.calls)
            if result:
                return result
            if time.monotonic() >= deadline:
                name = getattr(predicate, "__qualname__", repr(predicate))
                raise TimeoutError(
                    f"{name} was still false after {timeout} s; "
                    f"the last calls were:\n{self.describe_calls()}"
                )
            await asyncio.sleep(0.01)

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - as in wait_for
    ) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` came; return them all."""

        def enough(calls: list[Call]) -> list[Call]:
            found = [c for c in calls if c.method == method]
            return found if len(found) >= count else []

        enough.__qualname__ = f"{count} call(s) of {method}"
        return await self.wait_for(enough, timeout)

    def describe_calls(self, last: int = 10) -> str:
        """A short human-readable list of the last calls, for failure messages."""
        lines = []
        for call in self._calls[-last:]:
            params = json.dumps(call.params, ensure_ascii=False)
            if len(params) > 200:
                params = params[:200] + "..."
            lines.append(f"  #{call.index} {call.method} -> {call.status} {params}")
        return "\n".join(lines) or "  (no calls)"

    def add_file(
        self,
        content: bytes,
        file_id: str | None = None,
        *,
        kind: str | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> str:
        """Register a downloadable file (getFile, then the file URL); return its id.

        Args:
            content: the bytes served for download.
            file_id: the id to give it; a new realistic one by default.
            kind: photo, document, voice, sticker, ...; sending it as another
                kind fails as in Telegram. None allows any use.
            filename: the original file name.
            mime_type: its MIME type.
        """
        return self._new_file(
            content, kind, file_id=file_id, filename=filename, mime_type=mime_type
        ).file_id

    def file(self, file_id: str) -> FakeFile:
        """A stored file by its id (KeyError if unknown)."""
        return self._files[file_id]

    def add_user(
        self,
        user_id: int,
        first_name: str = "Petar",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "sr",
    ) -> None:
        """Set the profile that updates from ``user_id`` carry."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user

    def add_chat(self, chat_id: int, title: str, chat_type: str | None = None) -> None:
        """Describe a group, supergroup or channel that updates may come from."""
        if chat_type is None:
            chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        self._chats[chat_id] = {"id": chat_id, "type": chat_type, "title": title}

    # ------------------------------------------------------------------ updates

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue a raw update (it may be malformed); return its update_id.

        An update without an integer ``update_id`` gets the next one.
        """
        queued = dict(update)
        update_id = queued.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            self._next_update_id = max(self._next_update_id, update_id + 1)
        else:
            update_id = self._next_update_id
            self._next_update_id += 1
            queued["update_id"] = update_id
        self._updates.append(queued)
        self._pushed[update_id] = queued
        self._notify()
        return update_id

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        entities: list[JSONDict] | None = None,
    ) -> int:
        """Queue a text message from a user; return the update_id."""
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        return self._push_message(user_id, chat_id, first_name, content)

    def push_command(
        self,
        user_id: int,
        command: str,
        args: str = "",
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        mention_bot: bool = False,
    ) -> int:
        """Queue a ``/command args`` message with its bot_command entity."""
        head = "/" + command.removeprefix("/")
        if mention_bot:
            head += f"@{self.bot_user['username']}"
        text = f"{head} {args}" if args else head
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(head)}
        return self._push_message(
            user_id, chat_id, first_name, {"text": text, "entities": [entity]}
        )

    def push_callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Queue a press of an inline button with ``data``; return the update_id.

        The query carries the bot's message ``message_id`` (by default its
        latest message in the chat) as it is now. The query's id is in
        ``update(update_id)["callback_query"]["id"]``.
        """
        chat = chat_id if chat_id is not None else user_id
        user = self._user(user_id, first_name)
        self._remember_chat(chat, user)
        stored = self._messages.get(chat, {})
        if message_id is None:
            mine = [mid for mid, s in stored.items() if s.outgoing and not s.deleted]
            message_id = max(mine) if mine else None
        message: JSONDict
        if message_id is not None and message_id in stored:
            message = copy.deepcopy(stored[message_id].message)
        else:
            message = {
                "message_id": message_id or 1,
                "from": self.bot_user,
                "chat": self._chat_object(chat),
                "date": _now(),
            }
        query_id = str(4_000_000_000_000_000 + next(self._counter))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(abs(hash((self.bot_id, chat)))),
            "data": data,
        }
        return self._push_checked({"callback_query": query})

    def push_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
    ) -> int:
        """Queue a shared location (a pin); return the update_id."""
        location: JSONDict = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            location["live_period"] = live_period
        return self._push_message(user_id, chat_id, first_name, {"location": location})

    def push_venue(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        title: str,
        address: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Queue a venue (Telegram sends its location along); return the update_id."""
        location = {"latitude": latitude, "longitude": longitude}
        venue = {"location": location, "title": title, "address": address}
        return self._push_message(
            user_id, chat_id, first_name, {"venue": venue, "location": location}
        )

    def push_photo(
        self,
        user_id: int,
        content: bytes | None = None,
        *,
        file_ids: Sequence[str] | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        chat_id: int | None = None,
        first_name: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """Queue a photo (answering the message ``reply_to_message_id``); return the update_id.

        With ``content``, the photo comes in four sizes, smallest first; only
        the largest (the last) downloads as ``content``. With ``file_ids`` (of
        files from ``add_file``, or new ones), those are the sizes. With
        neither, a small fake JPEG is used.
        """
        if file_ids:
            sizes = []
            for i, fid in enumerate(file_ids):
                width = _PHOTO_WIDTHS[-len(file_ids) + i] if len(file_ids) <= 4 else 1280
                existing = self._files.get(fid)
                if existing is None:
                    existing = self._new_file(
                        b"\xff\xd8\xff\xe0fake photo " + fid.encode(), "photo", file_id=fid
                    )
                existing.width, existing.height = width, width * 3 // 4
                sizes.append(existing)
            self._group_photo(sizes)
        else:
            sizes = self._make_photo(content or _fake_jpeg(), None)
        message: JSONDict = {"photo": [s.photo_size() for s in sizes]}
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        if reply_to_message_id is not None:
            chat = chat_id if chat_id is not None else user_id
            stored = self._messages.get(chat, {}).get(reply_to_message_id)
            if stored is not None:
                message["reply_to_message"] = copy.deepcopy(stored.message)
        return self._push_message(user_id, chat_id, first_name, message)

    def push_document(
        self,
        user_id: int,
        content: bytes = b"%PDF-1.4 fake document\n",
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        file_id: str | None = None,
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Queue a document (a file sent as file); return the update_id."""
        doc = self._new_file(
            content, "document", file_id=file_id, filename=file_name, mime_type=mime_type
        )
        message: JSONDict = {"document": _document(doc)}
        if caption is not None:
            message["caption"] = caption
        return self._push_message(user_id, chat_id, first_name, message)

    def push_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        file_id: str | None = None,
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Queue a sticker; return the update_id."""
        sticker = self._new_file(b"RIFF\x00\x00\x00\x00WEBPfake", "sticker", file_id=file_id)
        body = {
            "file_id": sticker.file_id,
            "file_unique_id": sticker.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(sticker.content),
        }
        return self._push_message(user_id, chat_id, first_name, {"sticker": body})

    def push_voice(
        self,
        user_id: int,
        content: bytes = b"OggS\x00fake voice",
        *,
        duration: int = 3,
        file_id: str | None = None,
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Queue a voice note; return the update_id."""
        voice = self._new_file(content, "voice", file_id=file_id, mime_type="audio/ogg")
        body = {
            "file_id": voice.file_id,
            "file_unique_id": voice.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        return self._push_message(user_id, chat_id, first_name, {"voice": body})

    def push_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_first_name: str | None = None,
        contact_last_name: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Queue a shared contact; by default the user's own (a request_contact button)."""
        user = self._user(user_id, first_name)
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": contact_first_name or user["first_name"],
            "user_id": contact_user_id if contact_user_id is not None else user_id,
        }
        if contact_last_name:
            contact["last_name"] = contact_last_name
        return self._push_message(user_id, chat_id, first_name, {"contact": contact})

    def push_edited_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> int:
        """Queue an ``edited_message`` update for a message the user sent before."""
        chat = chat_id if chat_id is not None else user_id
        stored = self._messages.get(chat, {}).get(message_id)
        if stored is None or stored.outgoing:
            raise LookupError(f"user message {message_id} in chat {chat} is unknown")
        stored.message["text"] = text
        stored.message.pop("entities", None)
        stored.message["edit_date"] = _now()
        return self._push_checked({"edited_message": copy.deepcopy(stored.message)})

    def push_my_chat_member(
        self, user_id: int, new_status: str = "kicked", *, old_status: str = "member"
    ) -> int:
        """Queue a ``my_chat_member`` update of a private chat; return the update_id.

        ``kicked`` is the user blocking the bot: later calls to that chat fail
        with 403 until a ``member`` update (the user restarting the bot).
        """
        user = self._user(user_id, None)
        self._remember_chat(user_id, user)
        if new_status == "kicked":
            self._blocked.add(user_id)
        elif new_status == "member":
            self._blocked.discard(user_id)
        change = {
            "chat": self._chat_object(user_id),
            "from": user,
            "date": _now(),
            "old_chat_member": _member(self.bot_user, old_status),
            "new_chat_member": _member(self.bot_user, new_status),
        }
        return self._push_checked({"my_chat_member": change})

    def _push_checked(self, update: JSONDict) -> int:
        if self.check_answers:
            self.spec.check({"update_id": self._next_update_id, **update}, "Update")
        return self.push_update(update)

    def _push_message(
        self, user_id: int, chat_id: int | None, first_name: str | None, content: JSONDict
    ) -> int:
        chat = chat_id if chat_id is not None else user_id
        user = self._user(user_id, first_name)
        self._remember_chat(chat, user)
        message = {
            "message_id": self._new_message_id(chat),
            "from": user,
            "chat": self._chat_object(chat),
            "date": _now(),
            **content,
        }
        self._messages.setdefault(chat, {})[message["message_id"]] = _Stored(
            copy.deepcopy(message), outgoing=False
        )
        return self._push_checked({"message": message})

    def _user(self, user_id: int, first_name: str | None) -> JSONDict:
        if user_id not in self._users:
            self.add_user(user_id, first_name or "Petar")
        elif first_name:
            self._users[user_id]["first_name"] = first_name
        return dict(self._users[user_id])

    def _remember_chat(self, chat_id: int, user: JSONDict) -> None:
        if chat_id in self._chats:
            return
        if chat_id > 0:
            chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            self._chats[chat_id] = chat
        else:
            self.add_chat(chat_id, f"Group {chat_id}")

    def _notify(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    # ------------------------------------------------------------ HTTP: Bot API

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token != self.token:
            if re.fullmatch(r"\d+:[\w-]+", token):
                return _answer(TelegramApiError(401, "Unauthorized").to_json(), 401)
            return _answer(TelegramApiError(404, "Not Found").to_json(), 404)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        name = request.match_info["method"]
        spec = self.spec.method(name)
        call = Call(next(self._counter), spec.name if spec else name, {}, time.time())
        self._calls.append(call)
        try:
            result = await self._serve(spec, request, call)
            if spec is not None:
                self._check_answer(spec, result)
        except TelegramApiError as exc:
            call.status, call.response = exc.status, exc.to_json()
        else:
            body: JSONDict = {"ok": True}
            if isinstance(result, _Described):
                body["result"], body["description"] = result.result, result.description
            else:
                body["result"] = result
            call.status, call.response = 200, body
        return _answer(call.response, call.status)

    async def _serve(self, spec: MethodSpec | None, request: web.Request, call: Call) -> Any:
        if spec is None:
            raise TelegramApiError(404, "Not Found: method not found")
        raw, uploads = await _read_params(request)
        call.files = dict(uploads)
        call.params = dict(raw)
        params = self.spec.decode_params(spec, raw, uploads)
        call.params = params
        self._check_failures(spec.name, params)
        return await self._dispatch(spec, params, uploads)

    def _check_answer(self, spec: MethodSpec, result: Any) -> None:
        # Updates may be malformed on purpose (push_update); the rest is ours.
        if not self.check_answers or spec.name == "getUpdates":
            return
        value = result.result if isinstance(result, _Described) else result
        try:
            self.spec.decode(value, spec.returns, path="result")
        except SpecMismatchError as exc:
            raise TelegramApiError(
                500, f"Internal Server Error: the fake's answer does not fit the spec: {exc}"
            ) from None

    def _check_failures(self, method: str, params: JSONDict) -> None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self._blocked:
            raise TelegramApiError(403, BLOCKED)
        for failure in self._failures:
            if failure.matches(method, params):
                failure.count -= 1
                if failure.count <= 0:
                    self._failures.remove(failure)
                raise failure.error()

    async def _dispatch(
        self, spec: MethodSpec, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        handler = self._handlers.get(spec.name)
        if handler is not None:
            return await handler(params, uploads)
        if spec.returns == ("Boolean",):
            return True
        raise TelegramApiError(501, f"Not Implemented: the fake does not implement {spec.name}")

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer(TelegramApiError(401, "Unauthorized").to_json(), 401)
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return _answer(TelegramApiError(404, "Not Found").to_json(), 404)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # ---------------------------------------------------------- methods: updates

    async def _get_me(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        if self.webhook.get("url"):
            raise TelegramApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(float(params.get("timeout", 0)), 0.0), LONG_POLL_MAX_TIMEOUT)
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        me = object()
        self._poller = me
        self._notify()  # a newer getUpdates ends the one that is waiting
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._poller is not me:
                raise TelegramApiError(409, DEFAULT_DESCRIPTIONS[409])
            batch = self._deliverable(limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if batch or self._closing or remaining <= 0:
                if self._poller is me:
                    self._poller = None
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    def _deliverable(self, limit: int) -> list[JSONDict]:
        allowed = set(self._allowed_updates)
        kinds = set(self.spec.types["Update"].fields) - {"update_id"}
        kept = []
        for update in self._updates:
            kind = next((k for k in update if k in kinds), None)
            wanted = kind in allowed if allowed else kind not in NOT_DEFAULT_UPDATES
            if kind is None or wanted:
                kept.append(update)
        self._updates = kept
        return copy.deepcopy(kept[:limit])

    async def _set_webhook(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        url = params["url"]
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        port = re.match(r"https://[^/:]+(?::(\d+))?", url)
        if port and port.group(1) and port.group(1) not in ("80", "88", "443", "8443"):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = dict(params)
        self._notify()
        return _Described(True, "Webhook was set")

    async def _delete_webhook(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        had = bool(self.webhook.get("url"))
        self.webhook = {}
        return _Described(True, "Webhook was deleted" if had else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        info: JSONDict = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": "certificate" in self.webhook,
            "pending_update_count": len(self._updates),
        }
        if info["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["ip_address"] = self.webhook.get("ip_address", "127.0.0.1")
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # --------------------------------------------------------- methods: commands

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        """Where commands are kept: the scope (checked against the spec's BotCommandScope types
        with the other parameters; a chat's id as a number) and the language."""
        scope = dict(params.get("scope") or {"type": "default"})
        if "chat_id" in scope:
            chat = self._chat_key(scope["chat_id"])
            # Telegram knows a private chat only once its user has written to the bot.
            if chat > 0 and chat not in self._chats:
                raise bad_request("chat not found")
            scope["chat_id"] = chat
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    def menu_of(self, chat_id: int, language_code: str = "") -> list[str]:
        """The command menu a user of a private chat sees (by Telegram's order of scopes: the
        chat's own, then all private chats', then the default; each in the user's app language
        before the one without a language): ``/name - description`` lines."""
        chat = {"type": "chat", "chat_id": chat_id}
        for scope in (chat, {"type": "all_private_chats"}, {"type": "default"}):
            for language in dict.fromkeys((language_code, "")):
                key = json.dumps(scope, sort_keys=True), language
                if key in self.commands:
                    return [f"/{c['command']} - {c['description']}" for c in self.commands[key]]
        return []

    async def _set_my_commands(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        # The spec: "A two-letter ISO 639-1 language code" (bs, sr, hu), never sr-Latn.
        if not re.fullmatch(r"([a-z]{2})?", params.get("language_code") or ""):
            raise bad_request("LANGUAGE_CODE_INVALID")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise bad_request("command description must be 1-256 characters long")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    # ---------------------------------------------------------- methods: sending

    def _chat_key(self, chat_id: int | str) -> int:
        if isinstance(chat_id, int):
            return chat_id
        if _INT_RE.fullmatch(chat_id):
            return int(chat_id)
        if not chat_id.startswith("@") or len(chat_id) < 2:
            raise bad_request("chat not found")
        if chat_id not in self._usernames:
            key = -1_000_000_000_000 - len(self._usernames) - 1
            self._usernames[chat_id] = key
            self._chats[key] = {
                "id": key,
                "type": "channel",
                "title": chat_id[1:],
                "username": chat_id[1:],
            }
        return self._usernames[chat_id]

    def _chat_object(self, chat: int) -> JSONDict:
        if chat in self._chats:
            return dict(self._chats[chat])
        if chat > 0:
            return {"id": chat, "type": "private", "first_name": "User"}
        kind = "supergroup" if chat <= -1_000_000_000_000 else "group"
        return {"id": chat, "type": kind, "title": f"Group {chat}"}

    def _new_message_id(self, chat: int) -> int:
        message_id = self._next_message_id.get(chat, 1)
        self._next_message_id[chat] = message_id + 1
        return message_id

    def _target_chat(self, params: JSONDict) -> int:
        chat = self._chat_key(params["chat_id"])
        if self.strict_chats and chat > 0 and chat not in self._chats:
            raise bad_request("chat not found")
        return chat

    def _outgoing(self, chat: int, params: JSONDict, content: JSONDict) -> JSONDict:
        """Store and return a new message of the bot in ``chat``."""
        markup = params.get("reply_markup")
        self._check_markup(markup)
        reply = self._replied_message(chat, params.get("reply_parameters"))
        chat_object = self._chat_object(chat)
        message: JSONDict = {"message_id": self._new_message_id(chat)}
        if chat_object["type"] == "channel":
            message["sender_chat"] = chat_object
        else:
            message["from"] = dict(self.bot_user)
        message.update(chat=chat_object, date=_now())
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if _inline(markup) is not None:
            message["reply_markup"] = _inline(markup)
        if params.get("protect_content"):
            message["has_protected_content"] = True
        self._messages.setdefault(chat, {})[message["message_id"]] = _Stored(
            copy.deepcopy(message), outgoing=True
        )
        return message

    def _replied_message(self, chat: int, reply: JSONDict | None) -> JSONDict | None:
        if not reply:
            return None
        target = self._chat_key(reply["chat_id"]) if "chat_id" in reply else chat
        stored = self._messages.get(target, {}).get(reply["message_id"])
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        replied = copy.deepcopy(stored.message)
        replied.pop("reply_to_message", None)
        return replied

    def _check_markup(self, markup: JSONDict | None) -> None:
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                actions = [name for name in INLINE_BUTTON_ACTIONS if name in button]
                if len(actions) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                        if not actions
                        else "can't parse inline keyboard button: "
                        "only one of the optional fields must be used"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"(https?|tg)://\S+$", url):
                    raise bad_request("BUTTON_URL_INVALID")
        for row in markup.get("keyboard", []):
            for button in row:
                if not button["text"]:
                    raise bad_request("keyboard button text must be non-empty")

    def _format(
        self,
        text: str,
        parse_mode: str | None,
        entities: list[JSONDict] | None,
        *,
        caption: bool,
    ) -> tuple[str, list[JSONDict]]:
        """Parse text as Telegram does; check it is not empty or too long."""
        parsers: dict[str, Callable[[str], tuple[str, list[JSONDict]]]] = {
            "html": parse_html,
            "markdownv2": parse_markdown_v2,
            "markdown": parse_markdown,
        }
        if parse_mode:
            parser = parsers.get(parse_mode.lower())
            if parser is None:
                raise bad_request(f"unsupported parse_mode {parse_mode!r}")
            try:
                text, entities = parser(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        text, entities = _strip_text(text, list(entities or []))
        if not text and not caption:
            raise bad_request("message text is empty")
        if caption and len(text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        if not caption and len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return text, entities

    def _caption(self, params: JSONDict) -> JSONDict:
        if "caption" not in params:
            return {}
        text, entities = self._format(
            params["caption"],
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        content: JSONDict = {"caption": text} if text else {}
        if entities:
            content["caption_entities"] = entities
        return content

    async def _send_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        text, entities = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        if "link_preview_options" in params:
            content["link_preview_options"] = params["link_preview_options"]
        return self._outgoing(self._target_chat(params), params, content)

    def _file_sender(self, kind: str) -> Handler:
        """A handler for sendPhoto, sendDocument, sendVoice and the like."""

        async def send(params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
            chat = self._target_chat(params)
            content = self._caption(params)
            files = self._media(params[kind], uploads, kind)
            content[kind] = _media_object(kind, files, params)
            if params.get("has_spoiler"):
                content["has_media_spoiler"] = True
            return self._outgoing(chat, params, content)

        return send

    async def _send_location(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        latitude, longitude = params["latitude"], params["longitude"]
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong latitude or longitude")  # Telegram: LOCATION_INVALID
        location = {"latitude": latitude, "longitude": longitude}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if key in params:
                location[key] = params[key]
        return self._outgoing(chat, params, {"location": location})

    async def _send_venue(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._outgoing(chat, params, {"venue": venue, "location": location})

    async def _send_contact(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        contact = {
            key: params[key]
            for key in ("phone_number", "first_name", "last_name", "vcard")
            if key in params
        }
        return self._outgoing(chat, params, {"contact": contact})

    def _source_message(self, params: JSONDict, verb: str) -> JSONDict:
        chat = self._chat_key(params["from_chat_id"])
        stored = self._messages.get(chat, {}).get(params["message_id"])
        if stored is None or stored.deleted:
            raise bad_request(f"message to {verb} not found")
        return copy.deepcopy(stored.message)

    async def _forward_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        source = self._source_message(params, "forward")
        content = {k: v for k, v in source.items() if k in _CONTENT_FIELDS}
        if "sender_chat" in source:
            origin: JSONDict = {
                "type": "channel",
                "date": source["date"],
                "chat": source["sender_chat"],
                "message_id": source["message_id"],
            }
        else:
            origin = {"type": "user", "date": source["date"], "sender_user": source["from"]}
        return self._outgoing(chat, params, {"forward_origin": origin, **content})

    async def _copy_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        source = self._source_message(params, "copy")
        content = {k: v for k, v in source.items() if k in _CONTENT_FIELDS}
        if "caption" in params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(params))
        return {"message_id": self._outgoing(chat, params, content)["message_id"]}

    async def _delete_messages(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._chat_key(params["chat_id"])
        if not 1 <= len(params["message_ids"]) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for message_id in params["message_ids"]:
            stored = self._messages.get(chat, {}).get(message_id)
            if stored is not None:
                stored.deleted = True
        return True

    async def _send_media_group(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        media: list[JSONDict] = params["media"]
        if not 2 <= len(media) <= 10:
            raise bad_request("media group must include 2-10 items")  # fake's wording
        kinds = {item["type"] for item in media}
        if len(kinds) > 1 and kinds & {"document", "audio"}:
            raise bad_request(
                f"{sorted(kinds & {'document', 'audio'})[0]} can't be mixed with other media types"
            )
        group_id = str(13_000_000_000_000_000 + next(self._counter))
        messages = []
        for item in media:
            kind = item["type"]
            content = self._caption(item)
            files = self._media(item["media"], uploads, kind)
            content[kind] = _media_object(kind, files, item)
            content["media_group_id"] = group_id
            one = {k: v for k, v in params.items() if k != "reply_markup"}
            messages.append(self._outgoing(chat, one, content))
        return messages

    def _media(self, value: str, uploads: Mapping[str, UploadedFile], kind: str) -> list[FakeFile]:
        """Resolve an upload, file_id or URL to stored files (all sizes of a photo)."""
        if value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value!r} was not uploaded")
            if not upload.content:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                return self._make_photo(upload.content, upload.filename)
            return [
                self._new_file(
                    upload.content,
                    kind,
                    filename=upload.filename,
                    mime_type=upload.content_type,
                )
            ]
        if re.match(r"https?://", value):
            content = b"downloaded from " + value.encode()
            if kind == "photo":
                return self._make_photo(content, None)
            return [self._new_file(content, kind, filename=value.rsplit("/", 1)[-1])]
        stored = self._files.get(value)
        if stored is None:
            raise bad_request(WRONG_FILE)
        if stored.kind is not None and stored.kind != kind:
            raise bad_request(
                f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
            )
        group = self._photo_groups.get(value, [value]) if kind == "photo" else [value]
        return [self._files[fid] for fid in group]

    def _new_file(
        self,
        content: bytes,
        kind: str | None,
        *,
        file_id: str | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> FakeFile:
        prefix, folder, ext = _FILE_PREFIX.get(kind or "document", _FILE_PREFIX["document"])
        number = next(self._counter)
        if filename and "." in filename:
            ext = filename.rsplit(".", 1)[-1]
        stored = FakeFile(
            file_id=file_id or prefix + secrets.token_urlsafe(48),
            file_unique_id="AQAD" + secrets.token_urlsafe(12),
            content=content,
            file_path=f"{folder}/file_{number}.{ext}",
            kind=kind,
            filename=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _make_photo(self, content: bytes, filename: str | None) -> list[FakeFile]:
        sizes = []
        for width in _PHOTO_WIDTHS[:-1]:
            thumb = self._new_file(b"fake thumbnail %d " % width + content[:32], "photo")
            thumb.width, thumb.height = width, width * 3 // 4
            sizes.append(thumb)
        sizes.append(self._new_file(content, "photo", filename=filename))
        self._group_photo(sizes)
        return sizes

    def _group_photo(self, sizes: list[FakeFile]) -> None:
        ids = [s.file_id for s in sizes]
        for fid in ids:
            self._photo_groups[fid] = ids

    # ---------------------------------------------------------- methods: editing

    def _edit_target(self, params: JSONDict) -> _Stored | None:
        if "inline_message_id" in params:
            return None
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._chat_key(params["chat_id"])
        stored = self._messages.get(chat, {}).get(params["message_id"])
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.outgoing:
            raise bad_request("message can't be edited")
        return stored

    def _apply_edit(self, stored: _Stored, changes: JSONDict) -> JSONDict:
        message = stored.message
        if all(message.get(key) == value for key, value in changes.items()):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    async def _edit_message_text(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        if "text" not in params:
            raise bad_request("message text is empty")
        text, entities = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        self._check_markup(params.get("reply_markup"))
        stored = self._edit_target(params)
        if stored is None:
            return True
        if "text" not in stored.message:
            raise bad_request("there is no text in the message to edit")
        # Telegram drops the inline keyboard of a message edited without one.
        return self._apply_edit(
            stored,
            {
                "text": text,
                "entities": entities or None,
                "reply_markup": _inline(params.get("reply_markup")),
            },
        )

    async def _edit_message_caption(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        caption = self._caption(params)
        self._check_markup(params.get("reply_markup"))
        stored = self._edit_target(params)
        if stored is None:
            return True
        if "text" in stored.message:
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            stored,
            {
                "caption": caption.get("caption"),
                "caption_entities": caption.get("caption_entities"),
                "reply_markup": _inline(params.get("reply_markup")),
            },
        )

    async def _edit_message_reply_markup(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        self._check_markup(params.get("reply_markup"))
        stored = self._edit_target(params)
        if stored is None:
            return True
        return self._apply_edit(stored, {"reply_markup": _inline(params.get("reply_markup"))})

    async def _delete_message(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        chat = self._chat_key(params["chat_id"])
        stored = self._messages.get(chat, {}).get(params["message_id"])
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        stored.deleted = True
        return True

    # ------------------------------------------------------------ methods: other

    async def _answer_callback_query(
        self, params: JSONDict, uploads: Mapping[str, UploadedFile]
    ) -> Any:
        query_id = params["callback_query_id"]
        if query_id not in self._open_callbacks:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    async def _get_file(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return stored.to_file()

    async def _send_chat_action(self, params: JSONDict, uploads: Mapping[str, UploadedFile]) -> Any:
        self._target_chat(params)
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ------------------------------------------------------------ HTTP: control

    def _control_routes(
        self,
    ) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]]:
        """The control API for tests in other processes.

        - ``POST /_fake/updates``: a raw update (or a list) as JSON ->
          ``{"update_ids": [...]}``.
        - ``POST /_fake/push/{kind}``: JSON keyword arguments of ``push_{kind}``
          (text, command, callback, location, venue, photo, document, sticker,
          voice, contact, edited_text, my_chat_member); bytes as base64 in
          ``content_b64`` -> ``{"update_id": N}``.
        - ``GET /_fake/calls?method=M&since=I``: recorded calls with index >= I;
          ``DELETE /_fake/calls`` forgets them.
        - ``POST /_fake/fail``: JSON arguments of ``fail_next``.
        - ``POST /_fake/files?file_id=F&kind=K``: the raw body becomes a file ->
          ``{"file_id": ...}``.
        - ``GET /_fake/sent?chat_id=C``: ``sent_messages(C)``.
        - ``GET /_fake/info``: token, URLs and the bot user.
        """
        return [
            ("POST", "/_fake/updates", self._control_updates),
            ("POST", "/_fake/push/{kind}", self._control_push),
            ("GET", "/_fake/calls", self._control_calls),
            ("DELETE", "/_fake/calls", self._control_clear_calls),
            ("POST", "/_fake/fail", self._control_fail),
            ("POST", "/_fake/files", self._control_files),
            ("GET", "/_fake/sent", self._control_sent),
            ("GET", "/_fake/info", self._control_info),
        ]

    async def _control_updates(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        updates = body if isinstance(body, list) else [body]
        if not all(isinstance(u, dict) for u in updates):
            return _answer({"ok": False, "description": "an update must be an object"}, 400)
        ids = [self.push_update(u) for u in updates]
        return _answer({"ok": True, "update_ids": ids, "update_id": ids[-1] if ids else None})

    async def _control_push(self, request: web.Request) -> web.Response:
        kinds: dict[str, Callable[..., int]] = {
            "text": self.push_text,
            "command": self.push_command,
            "callback": self.push_callback,
            "location": self.push_location,
            "venue": self.push_venue,
            "photo": self.push_photo,
            "document": self.push_document,
            "sticker": self.push_sticker,
            "voice": self.push_voice,
            "contact": self.push_contact,
            "edited_text": self.push_edited_text,
            "my_chat_member": self.push_my_chat_member,
        }
        push = kinds.get(request.match_info["kind"])
        if push is None:
            return _answer({"ok": False, "description": "unknown kind"}, 404)
        kwargs = await _json_body(request)
        if not isinstance(kwargs, dict):
            return _answer({"ok": False, "description": "send a JSON object"}, 400)
        if "content_b64" in kwargs:
            kwargs["content"] = base64.b64decode(kwargs.pop("content_b64"))
        try:
            update_id = push(**kwargs)
        except (TypeError, LookupError, ValueError) as exc:
            return _answer({"ok": False, "description": str(exc)}, 400)
        return _answer({"ok": True, "update_id": update_id})

    async def _control_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        since = int(request.query.get("since", "0"))
        calls = [
            c.to_json()
            for c in self._calls
            if c.index >= since and (method is None or c.method == method)
        ]
        return _answer({"ok": True, "calls": calls})

    async def _control_clear_calls(self, request: web.Request) -> web.Response:
        self.clear_calls()
        return _answer({"ok": True})

    async def _control_fail(self, request: web.Request) -> web.Response:
        kwargs = await _json_body(request)
        if not isinstance(kwargs, dict) or "method" not in kwargs:
            return _answer({"ok": False, "description": 'send {"method": ...}'}, 400)
        try:
            self.fail_next(**kwargs)
        except TypeError as exc:
            return _answer({"ok": False, "description": str(exc)}, 400)
        return _answer({"ok": True})

    async def _control_files(self, request: web.Request) -> web.Response:
        content = await request.read()
        file_id = self.add_file(
            content,
            request.query.get("file_id"),
            kind=request.query.get("kind"),
            filename=request.query.get("filename"),
        )
        return _answer({"ok": True, "file_id": file_id, **self._files[file_id].to_file()})

    async def _control_sent(self, request: web.Request) -> web.Response:
        chat_id = request.query.get("chat_id", "")
        if not _INT_RE.fullmatch(chat_id):
            return _answer({"ok": False, "description": "chat_id must be an integer"}, 400)
        return _answer({"ok": True, "messages": self.sent_messages(int(chat_id))})

    async def _control_info(self, request: web.Request) -> web.Response:
        return _answer(
            {
                "ok": True,
                "token": self.token,
                "base_url": self.base_url,
                "base_file_url": self.base_file_url,
                "bot": self.bot_user,
                "spec_version": self.spec.version,
            }
        )


# -------------------------------------------------------------------------- helpers


@functools.cache
def _default_spec() -> BotApiSpec:
    return BotApiSpec.load()


def _now() -> int:
    return int(time.time())


def _fake_jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake photo " + secrets.token_bytes(16) + b"\xff\xd9"


def _inline(markup: JSONDict | None) -> JSONDict | None:
    """The inline keyboard that a message keeps (none when empty or not inline)."""
    if markup and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


_CONTENT_FIELDS = frozenset(
    {
        "text",
        "entities",
        "link_preview_options",
        "caption",
        "caption_entities",
        "show_caption_above_media",
        "has_media_spoiler",
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "animation",
        "sticker",
        "location",
        "venue",
        "contact",
    }
)


def _media_object(kind: str, files: list[FakeFile], params: Mapping[str, Any]) -> Any:
    """The Telegram object of sent media: PhotoSize array, Document, Voice, ..."""
    if kind == "photo":
        return [f.photo_size() for f in files]
    if kind == "document":
        return _document(files[0])
    body: JSONDict = {
        "file_id": files[0].file_id,
        "file_unique_id": files[0].file_unique_id,
        "file_size": len(files[0].content),
    }
    if kind == "sticker":
        body.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        if "emoji" in params:
            body["emoji"] = params["emoji"]
        return body
    body["duration"] = params.get("duration", 1)
    if kind in ("video", "animation"):
        body.update(width=params.get("width", 640), height=params.get("height", 480))
    return body


def _document(doc: FakeFile) -> JSONDict:
    body: JSONDict = {
        "file_id": doc.file_id,
        "file_unique_id": doc.file_unique_id,
        "file_size": len(doc.content),
    }
    if doc.filename:
        body["file_name"] = doc.filename
    if doc.mime_type:
        body["mime_type"] = doc.mime_type
    return body


def _member(user: JSONDict, status: str) -> JSONDict:
    member: JSONDict = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    elif status == "restricted":
        member.update(
            is_member=False,
            until_date=0,
            **dict.fromkeys(
                (
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                ),
                False,
            ),
        )
    return member


def _answer(body: JSONDict, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False)
    )


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read() or b"null")
    except ValueError:
        return None


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, object], dict[str, UploadedFile]]:
    """Read the parameters of a Bot API request: query, JSON, form or multipart."""
    params: dict[str, object] = dict(request.query)
    uploads: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.body_exists:
        return params, uploads
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = UploadedFile(
                    name=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    content=value.file.read(),
                )
            else:
                params[key] = value if isinstance(value, str) else value.decode()
    else:
        raise bad_request(f"unsupported Content-Type {content_type!r}")
    return params, uploads


# ----------------------------------------------------------------------- standalone


async def serve(
    *,
    host: str,
    port: int,
    token: str,
    latency: float = 0.0,
    strict_chats: bool = False,
    check_answers: bool = True,
) -> None:
    """Run the fake until SIGINT or SIGTERM; print its URLs as one JSON line."""
    fake = FakeTelegramApi(
        token=token,
        host=host,
        port=port,
        latency=latency,
        strict_chats=strict_chats,
        check_answers=check_answers,
    )
    await fake.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(
        json.dumps(
            {
                "url": fake.url,
                "port": fake.port,
                "token": fake.token,
                "base_url": fake.base_url,
                "base_file_url": fake.base_file_url,
                "control_url": f"{fake.url}/_fake",
            }
        ),
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve the fake until killed."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram_api",
        description="A fake Telegram Bot API server, checked against the Bot API spec.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--strict-chats", action="store_true")
    parser.add_argument(
        "--no-check-answers",
        action="store_true",
        help="do not check the fake's own answers against the spec (faster)",
    )
    args = parser.parse_args(argv)
    asyncio.run(
        serve(
            host=args.host,
            port=args.port,
            token=args.token,
            latency=args.latency,
            strict_chats=args.strict_chats,
            check_answers=not args.no_check_answers,
        )
    )


if __name__ == "__main__":
    main()
