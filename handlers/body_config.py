"""Outside bodies of the municipality file: who is responsible for what the municipality is not.

The electricity distributor for power lines and cuts, the public enterprise for state roads, a
water utility that is not the municipality's, the police for abandoned vehicles. Each ``[[bodies]]``
table names the body (in Serbian Cyrillic, and in other languages where its name differs), how to
reach it, the categories that are wholly its own, the categories it shares with the municipality
(with the cases that are its own, in words), and whether reports are forwarded to it by e-mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers.i18n import Translator

# The languages whose names and cases a body may give besides Serbian (Latin is transliterated).
OTHER_LANGUAGES = ("en", "hu", "bs")
_KEYS = {
    "id", "name", "phone", "email", "web", "categories", "shares", "cases", "forward",
    *(f"{key}_{lang}" for key in ("name", "cases") for lang in OTHER_LANGUAGES),
}  # fmt: skip


class BodySectionError(Exception):
    """A ``[[bodies]]`` table is invalid; the message names the body and the problem."""


@dataclass(frozen=True, slots=True)
class Body:
    """An outside body: its names, contacts, and which problems are its own."""

    id: str
    names: dict[str, str]  # "sr" (Cyrillic) and any of OTHER_LANGUAGES
    phone: str | None = None
    email: str | None = None
    web: str | None = None
    categories: tuple[str, ...] = ()  # wholly the body's: the resident is told at once
    shares: tuple[str, ...] = ()  # partly the body's: told the cases, the report goes on
    cases: dict[str, str] = field(default_factory=dict)  # which cases of ``shares`` (per language)
    forward: bool = False  # reports of its categories are filed and e-mailed to it

    def name_in(self, t: Translator) -> str:
        """The body's name for a reader of ``t``'s language and script."""
        return _in(self.names, t)

    def cases_in(self, t: Translator) -> str:
        """Which cases of the shared categories are the body's, in ``t``'s language."""
        return _in(self.cases, t)

    def contacts(self) -> str:
        """Phone, e-mail and web on one line (never translated)."""
        parts = (("☎️", self.phone), ("✉️", self.email), ("🌐", self.web))
        return " · ".join(f"{icon} {value}" for icon, value in parts if value)

    @property
    def forwards(self) -> bool:
        """Whether reports handed to the body go to it by e-mail."""
        return self.forward and self.email is not None


def _in(texts: dict[str, str], t: Translator) -> str:
    own = texts.get(t.language)
    return own if own is not None else t.name(texts.get("sr", ""))


def parse_bodies(items: Any, categories: set[str], services: set[str]) -> dict[str, Body]:
    """The ``[[bodies]]`` tables, checked against the file's categories and services."""
    if items is None:
        return {}
    if not isinstance(items, list):
        raise BodySectionError("[[bodies]] must be a list of tables")
    bodies: dict[str, Body] = {}
    for i, item in enumerate(items, 1):
        body = _parse_body(item, f"body #{i}", categories)
        if body.id in bodies or body.id in services:
            raise BodySectionError(f"body #{i}: id '{body.id}' is taken by a body or a service")
        bodies[body.id] = body
    owners = [c for b in bodies.values() for c in b.categories]
    twice = sorted({c for c in owners if owners.count(c) > 1})
    if twice:
        raise BodySectionError(f"category '{twice[0]}' belongs to more than one body")
    return bodies


def _parse_body(item: Any, where: str, known: set[str]) -> Body:
    if not isinstance(item, dict):
        raise BodySectionError(f"{where}: must be a table")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise BodySectionError(f"{where}: unknown key '{unknown[0]}'")
    body_id = _text(item, where, "id")
    if body_id is None or not re.fullmatch(r"[a-z0-9_]{1,20}", body_id):
        raise BodySectionError(f"{where}: 'id' must be 1-20 lowercase letters, digits or _")
    where = f"{where} ({body_id})"
    names = _per_language(item, where, "name")
    if "sr" not in names:
        raise BodySectionError(f"{where}: missing 'name'")
    email = _text(item, where, "email")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise BodySectionError(f"{where}: invalid email")
    body = Body(
        id=body_id, names=names, phone=_text(item, where, "phone"), email=email,
        web=_text(item, where, "web"), categories=_categories(item, where, "categories", known),
        shares=_categories(item, where, "shares", known), cases=_per_language(item, where, "cases"),
        forward=_flag(item, where, "forward"),
    )  # fmt: skip
    return _checked(body, where)


def _checked(body: Body, where: str) -> Body:
    if not (body.phone or body.email or body.web):
        raise BodySectionError(f"{where}: needs a phone, an email or a web address")
    if body.forward and body.email is None:
        raise BodySectionError(f"{where}: 'forward' needs an email")
    if body.shares and "sr" not in body.cases:
        raise BodySectionError(f"{where}: 'shares' needs 'cases' (which of them are the body's)")
    if set(body.shares) & set(body.categories):
        raise BodySectionError(f"{where}: a category is both in 'categories' and in 'shares'")
    return body


def _text(item: dict[str, Any], where: str, key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BodySectionError(f"{where}: '{key}' must be a non-empty text")
    return value.strip()


def _per_language(item: dict[str, Any], where: str, key: str) -> dict[str, str]:
    found = {"sr": _text(item, where, key)}
    found |= {lang: _text(item, where, f"{key}_{lang}") for lang in OTHER_LANGUAGES}
    return {lang: text for lang, text in found.items() if text is not None}


def _categories(item: dict[str, Any], where: str, key: str, known: set[str]) -> tuple[str, ...]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise BodySectionError(f"{where}: '{key}' must be a list of category ids")
    unknown = [c for c in value if c not in known]
    if unknown:
        raise BodySectionError(f"{where}: unknown category '{unknown[0]}' in '{key}'")
    return tuple(value)


def _flag(item: dict[str, Any], where: str, key: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise BodySectionError(f"{where}: '{key}' must be true or false")
    return value
