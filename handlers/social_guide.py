"""The ``[social]`` section of the municipality file: rights and services of social protection.

Every text is written per language (``sr`` in Cyrillic, from which the Latin script is derived;
``bs`` in Latin; ``en``; ``hu``), and the file must give each text in every language the
municipality offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from handlers.i18n import to_latin

KEY = re.compile(r"[a-z0-9_]{1,30}")
# What the questionnaire "What could I be entitled to?" learns of a household.
FACTS = (
    "alone", "elderly", "disability", "children", "baby", "income_low", "income_modest",
)  # fmt: skip


class SocialSectionError(Exception):
    """The ``[social]`` section is invalid; the message names the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Localized:
    """One text in the languages the file gives (``sr`` Cyrillic, ``bs``, ``en``, ``hu``)."""

    texts: tuple[tuple[str, str], ...]

    def in_language(self, language: str) -> str:
        """The text for a reader of ``language`` (sr-Latn: the Cyrillic transliterated)."""
        found = dict(self.texts)
        base = language.split("-")[0]
        if base == "sr" or base not in found:
            serbian = found.get("sr", "")
            return serbian if language == "sr-Cyrl" else to_latin(serbian)
        return found[base]


@dataclass(frozen=True, slots=True)
class Office:
    """Where residents apply: the Centre for Social Work (or another office)."""

    key: str
    name: Localized
    address: Localized
    phone: str
    hours: Localized
    map_url: str | None


@dataclass(frozen=True, slots=True)
class Figure:
    """Beneficiaries of a right in one period, as the municipality published them on a date."""

    period: str
    beneficiaries: int
    published_on: date


@dataclass(frozen=True, slots=True)
class SocialRight:
    """A right or service: who is entitled, the documents, where and when to apply."""

    key: str
    title: Localized
    summary: Localized
    who: Localized
    documents: Localized
    office: str  # an Office's key
    how: Localized | None
    # The questionnaire lists it when all of ``if_all`` and one of ``if_any`` (if given) hold.
    if_all: frozenset[str] = frozenset()
    if_any: frozenset[str] = frozenset()
    figures: tuple[Figure, ...] = ()

    def may_apply(self, facts: set[str]) -> bool:
        """Whether the questionnaire lists this right for a household with these facts."""
        if not self.if_all and not self.if_any:
            return False
        return self.if_all <= facts and (not self.if_any or bool(self.if_any & facts))


@dataclass(frozen=True, slots=True)
class SocialGuide:
    """The guide: the offices and the rights, and whether it is an example."""

    example: bool
    offices: dict[str, Office]
    rights: tuple[SocialRight, ...]
    # The Centre's staff (messenger, user id): the only ones who see "Ask the Centre" questions.
    centre_staff: tuple[tuple[str, str], ...] = ()


def parse_social(data: object, languages: tuple[str, ...]) -> SocialGuide | None:
    """The guide of the file's ``[social]`` table (None when there is none).

    Raises:
        SocialSectionError: naming the entry and what is wrong with it.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise SocialSectionError("[social] must be a table")
    _only(data, "[social]", {"example", "offices", "rights", "centre_staff"})
    needed = sorted({lang.split("-")[0] for lang in languages} | {"sr"})
    offices: dict[str, Office] = {}
    for i, item in enumerate(_list(data, "offices"), 1):
        where = f"social office #{i}"
        _only(item, where, {"key", "name", "address", "phone", "hours", "map_url"})
        key = _key(item, where, offices)
        offices[key] = Office(
            key,
            _localized(item, where, "name", needed),
            _localized(item, where, "address", needed),
            _plain(item, where, "phone"),
            _localized(item, where, "hours", needed),
            item.get("map_url"),
        )
    rights: list[SocialRight] = []
    seen: dict[str, object] = {}
    for i, item in enumerate(_list(data, "rights"), 1):
        where = f"social right #{i}"
        _only(item, where, {"key", "title", "summary", "who", "documents", "office", "how",
                            "if_all", "if_any", "figures"})  # fmt: skip
        key = _key(item, where, seen)
        seen[key] = item
        office = _plain(item, where, "office")
        if office not in offices:
            raise SocialSectionError(f"{where} ({key}): unknown office '{office}'")
        how = _localized(item, where, "how", needed) if "how" in item else None
        rights.append(
            SocialRight(
                key,
                _localized(item, where, "title", needed),
                _localized(item, where, "summary", needed),
                _localized(item, where, "who", needed),
                _localized(item, where, "documents", needed),
                office,
                how,
                _facts(item, where, "if_all"),
                _facts(item, where, "if_any"),
                _figures(item, where),
            )
        )
    staff = data.get("centre_staff", [])
    if not isinstance(staff, list) or not all(
        isinstance(x, str) and re.fullmatch(r"[a-z]+:\S+", x) for x in staff
    ):
        raise SocialSectionError("[social]: 'centre_staff' must list \"messenger:user_id\"")
    identities = tuple((x.split(":", 1)[0], x.split(":", 1)[1]) for x in staff)
    return SocialGuide(bool(data.get("example", False)), offices, tuple(rights), identities)


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SocialSectionError(f"{where}: unknown key '{unknown[0]}'")


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise SocialSectionError(f"[social]: '{key}' must be a list of tables")
    return items


def _key(item: dict[str, Any], where: str, taken: dict[str, Any]) -> str:
    key = item.get("key")
    if not isinstance(key, str) or not KEY.fullmatch(key) or key in taken:
        raise SocialSectionError(f"{where}: 'key' must be unique lowercase letters, digits or _")
    return key


def _plain(item: dict[str, Any], where: str, key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SocialSectionError(f"{where}: missing '{key}'")
    return value


def _localized(item: dict[str, Any], where: str, key: str, needed: list[str]) -> Localized:
    value = item.get(key)
    if not isinstance(value, dict):
        raise SocialSectionError(f"{where}: '{key}' must be a table of languages (sr, bs, en, hu)")
    missing = [lang for lang in needed if not isinstance(value.get(lang), str) or not value[lang]]
    if missing:
        raise SocialSectionError(f"{where}: '{key}' has no text in '{missing[0]}'")
    unknown = sorted(set(value) - {"sr", "bs", "en", "hu"})
    if unknown:
        raise SocialSectionError(f"{where}: '{key}' has an unknown language '{unknown[0]}'")
    return Localized(tuple(sorted((k, str(v).strip()) for k, v in value.items())))


def _facts(item: dict[str, Any], where: str, key: str) -> frozenset[str]:
    value = item.get(key, [])
    if not isinstance(value, list) or any(x not in FACTS for x in value):
        raise SocialSectionError(f"{where}: '{key}' must list some of {', '.join(FACTS)}")
    return frozenset(value)


def _figures(item: dict[str, Any], where: str) -> tuple[Figure, ...]:
    found = []
    for i, f in enumerate(item.get("figures", []), 1):
        here = f"{where}, figure #{i}"
        if not isinstance(f, dict) or set(f) != {"period", "beneficiaries", "published_on"}:
            raise SocialSectionError(f"{here}: needs period, beneficiaries and published_on")
        count, day = f["beneficiaries"], f["published_on"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise SocialSectionError(f"{here}: 'beneficiaries' must be a whole number")
        if not isinstance(day, date) or not isinstance(f["period"], str):
            raise SocialSectionError(f"{here}: 'published_on' must be a date")
        found.append(Figure(f["period"], count, day))
    return tuple(found)
