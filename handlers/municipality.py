"""The municipality file: its area, languages, categories, services and staff, validated at load."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from handlers.body_config import Body, BodySectionError, parse_bodies
from handlers.budget.config import BudgetSection, BudgetSectionError, parse_budget
from handlers.i18n import LANGUAGES
from handlers.library.info import LibraryInfo, parse_library
from handlers.plan.config import NO_PLAN, PlanSection, PlanSectionError, parse_plan
from handlers.social_guide import SocialGuide, SocialSectionError, parse_social

# The categories the catalogs have names for; a municipality picks its services for them.
CATEGORY_IDS = (
    "road_damage",
    "street_lighting",
    "garbage",
    "illegal_dumping",
    "water_sewage",
    "green_areas",
    "stray_animals",
    "traffic_signs",
    "power_supply",
    "abandoned_vehicles",
    "other",
)
# Those every file must give a service; the others are offered only where the file names them.
REQUIRED_CATEGORY_IDS = tuple(
    c for c in CATEGORY_IDS if c not in ("power_supply", "abandoned_vehicles")
)
MESSENGERS = ("telegram", "viber", "console")
ROLES = ("admin", "operator", "librarian")


class MunicipalityFileError(Exception):
    """The municipality file is missing or invalid; the message names the problem."""


@dataclass(frozen=True, slots=True)
class Service:
    """A municipal service that is responsible for some categories."""

    id: str
    name: str
    sla_hours: int
    staff_chat_id: int | None
    email: str | None


DUPLICATE_RADIUS_M = 150  # a street's width and a few houses: the same pothole, not the next one
MAX_DUPLICATE_RADIUS_M = 2000


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of problem, the service responsible for it, and how near a report of it must be
    to another open one to be offered as the same problem."""

    id: str
    service: str
    duplicate_radius_m: int = DUPLICATE_RADIUS_M


@dataclass(frozen=True, slots=True)
class StaffMember:
    """An admin or an operator, known by messenger and user id."""

    messenger: str
    user_id: str
    name: str
    role: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConsultationEntry:
    """A public consultation announced in the municipality file (stored once, by its key)."""

    key: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    place: str
    link: str | None


@dataclass(frozen=True, slots=True)
class Privacy:
    """The controller of residents' personal data (the municipality) and how long it keeps it."""

    controller: str
    address: str
    email: str
    phone: str | None = None
    retention_months: int = 24  # after a report ends, its personal data is erased


@dataclass(frozen=True, slots=True)
class Municipality:
    """Everything the bot knows about the municipality it serves."""

    code: str
    name_cyrl: str
    name_latn: str
    languages: tuple[str, ...]
    timezone: str
    website: str | None
    center_lat: float
    center_lon: float
    radius_km: float
    reports_per_hour: int
    fix_confirmation_days: int
    reminder_minutes: tuple[int, ...]
    services: dict[str, Service]
    categories: dict[str, Category]
    staff: tuple[StaffMember, ...]
    templates: dict[str, str]
    consultations: tuple[ConsultationEntry, ...] = ()
    name_hu: str | None = None
    staff_answer_minutes: int = 10  # how long a question to a staff member waits for the answer
    library: LibraryInfo | None = None
    plan: PlanSection = NO_PLAN  # the plans and their measures (handlers/plan/config.py)
    social: SocialGuide | None = None  # social protection (handlers/social_guide.py)
    population: int | None = None  # residents, for the budget per resident
    budget: BudgetSection | None = None  # the consultation period, the ballot's rule
    privacy: Privacy | None = None  # None: the file names no controller (/privacy says so)
    bodies: dict[str, Body] = field(default_factory=dict)  # outside bodies (handlers/bodies.py)

    def name_in(self, language: str) -> str:
        """The municipality's name as a reader of ``language`` knows it (Sombor is Zombor)."""
        if language == "hu" and self.name_hu:
            return self.name_hu
        return self.name_cyrl if language == "sr-Cyrl" else self.name_latn

    @property
    def staff_language(self) -> str:
        """The language of the staff chats: the municipality's first."""
        return self.languages[0]

    def service_name(self, service_id: str) -> str:
        """A service's name; the bare id for a service no longer in the file (an old report)."""
        service = self.services.get(service_id)
        return service.name if service else service_id

    def body_for(self, category_id: str) -> Body | None:
        """The outside body whose category ``category_id`` wholly is, if any."""
        return next((b for b in self.bodies.values() if category_id in b.categories), None)

    def bodies_sharing(self, category_id: str) -> list[Body]:
        """The outside bodies some cases of ``category_id`` belong to."""
        return [b for b in self.bodies.values() if category_id in b.shares]

    def service_for(self, category_id: str) -> Service:
        """Return the service responsible for a category."""
        return self.services[self.categories[category_id].service]


def load_municipality(path: Path) -> Municipality:
    """Read and validate a municipality file.

    Raises:
        MunicipalityFileError: with one line naming the file and the problem.
    """
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
        return _parse(data)
    except FileNotFoundError:
        raise MunicipalityFileError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise MunicipalityFileError(f"{path}: not valid TOML: {e}") from None
    except (
        _Invalid,
        PlanSectionError,
        SocialSectionError,
        BodySectionError,
        BudgetSectionError,
    ) as e:
        raise MunicipalityFileError(f"{path}: {e}") from None


class _Invalid(Exception):
    pass


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _Invalid(f"missing table [{key}]")
    return value


def _field(table: dict[str, Any], where: str, key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise _Invalid(f"{where}: missing '{key}'")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise _Invalid(f"{where}: '{key}' has the wrong type")
    return value


def _only_keys(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _Invalid(f"{where}: unknown key '{unknown[0]}'")


def _parse(data: dict[str, Any]) -> Municipality:
    _only_keys(
        data,
        "file",
        {
            "municipality",
            "area",
            "limits",
            "services",
            "categories",
            "staff",
            "templates",
            "consultations",
            "library",
            "plan",
            "social",
            "privacy",
            "bodies",
            "budget",
        },
    )
    m = _table(data, "municipality")
    _only_keys(
        m,
        "[municipality]",
        {
            "code",
            "name_cyrl",
            "name_latn",
            "name_hu",
            "languages",
            "timezone",
            "website",
            "population",
        },
    )
    code = _field(m, "[municipality]", "code", str)
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise _Invalid("[municipality]: 'code' must be three capital letters")
    languages = tuple(_field(m, "[municipality]", "languages", list))
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad or not languages:
        raise _Invalid(f"[municipality]: unknown language {bad[0] if bad else '(none)'}")
    area = _table(data, "area")
    _only_keys(area, "[area]", {"center_lat", "center_lon", "radius_km"})
    lat = float(_field(area, "[area]", "center_lat", (int, float)))
    lon = float(_field(area, "[area]", "center_lon", (int, float)))
    radius = float(_field(area, "[area]", "radius_km", (int, float)))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius <= 0:
        raise _Invalid("[area]: centre or radius out of range")
    limits = data.get("limits", {})
    _only_keys(
        limits,
        "[limits]",
        {"reports_per_hour", "fix_confirmation_days", "reminder_minutes", "staff_answer_minutes"},
    )
    reminders = tuple(int(x) for x in limits.get("reminder_minutes", [24 * 60, 60]))
    per_hour = int(limits.get("reports_per_hour", 5))
    fix_days = int(limits.get("fix_confirmation_days", 7))
    answer_minutes = int(limits.get("staff_answer_minutes", 10))
    services = _parse_services(data.get("services", []))
    categories = _parse_categories(data.get("categories", []), services)
    return Municipality(
        code=code,
        name_cyrl=_field(m, "[municipality]", "name_cyrl", str),
        name_hu=m.get("name_hu"),
        population=_population(m),
        name_latn=_field(m, "[municipality]", "name_latn", str),
        languages=languages,
        timezone=str(m.get("timezone", "Europe/Belgrade")),
        website=m.get("website"),
        center_lat=lat,
        center_lon=lon,
        radius_km=radius,
        reports_per_hour=per_hour,
        fix_confirmation_days=fix_days,
        staff_answer_minutes=answer_minutes,
        reminder_minutes=reminders,
        services=services,
        categories=categories,
        bodies=parse_bodies(data.get("bodies"), set(categories), set(services)),
        staff=_parse_staff(data.get("staff", []), services),
        templates=_parse_templates(data.get("templates", [])),
        consultations=_parse_consultations(data.get("consultations", [])),
        library=_parse_library(data.get("library")),
        plan=parse_plan(data.get("plan"), set(services)),
        social=parse_social(data.get("social"), languages),
        privacy=_parse_privacy(data.get("privacy")),
        budget=parse_budget(data.get("budget")),
    )


def _parse_privacy(table: dict[str, Any] | None) -> Privacy | None:
    """The [privacy] table: the controller's name and contact, and the retention in months."""
    if table is None:
        return None
    where = "[privacy]"
    _only_keys(table, where, {"controller", "address", "email", "phone", "retention_months"})
    email = _field(table, where, "email", str)
    months = int(table.get("retention_months", 24))
    if "@" not in email or months <= 0:
        raise _Invalid(f"{where}: invalid email or non-positive retention_months")
    phone = table.get("phone")
    return Privacy(
        controller=_field(table, where, "controller", str),
        address=_field(table, where, "address", str),
        email=email,
        phone=str(phone) if phone is not None else None,
        retention_months=months,
    )


def _parse_library(table: Any) -> LibraryInfo | None:
    try:
        return parse_library(table)
    except ValueError as e:
        raise _Invalid(f"[library]: {e}") from None


def _population(m: dict[str, Any]) -> int | None:
    if "population" not in m:
        return None
    population = _field(m, "[municipality]", "population", int)
    if population <= 0:
        raise _Invalid("[municipality]: 'population' must be positive")
    return int(population)


def _parse_consultations(items: list[dict[str, Any]]) -> tuple[ConsultationEntry, ...]:
    """Consultations with their times as TOML date-times with an offset."""
    found = []
    for i, c in enumerate(items, 1):
        where = f"consultation #{i}"
        allowed = {"key", "title", "description", "starts_at", "ends_at", "place", "link"}
        _only_keys(c, where, allowed)
        starts = _field(c, where, "starts_at", datetime)
        ends = _field(c, where, "ends_at", datetime)
        if starts.tzinfo is None or ends.tzinfo is None or ends <= starts:
            raise _Invalid(f"{where}: times need an offset (+01:00) and must end after they start")
        found.append(
            ConsultationEntry(
                key=_field(c, where, "key", str),
                title=_field(c, where, "title", str),
                description=_field(c, where, "description", str),
                starts_at=starts,
                ends_at=ends,
                place=_field(c, where, "place", str),
                link=c.get("link"),
            )
        )
    return tuple(found)


def _parse_templates(items: list[dict[str, Any]]) -> dict[str, str]:
    """Canned answers staff can use in /reply and /reject as #id."""
    templates: dict[str, str] = {}
    for i, t in enumerate(items, 1):
        where = f"template #{i}"
        _only_keys(t, where, {"id", "text"})
        tid = _field(t, where, "id", str)
        if not re.fullmatch(r"[a-z0-9_]+", tid) or tid in templates:
            raise _Invalid(f"{where}: id must be unique lowercase letters, digits or _")
        templates[tid] = _field(t, where, "text", str)
    return templates


def _parse_services(items: list[dict[str, Any]]) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for i, s in enumerate(items, 1):
        where = f"service #{i}"
        _only_keys(s, where, {"id", "name", "sla_hours", "staff_chat_id", "email"})
        sid = _field(s, where, "id", str)
        sla = _field(s, where, "sla_hours", int)
        if sid in services or sla <= 0:
            raise _Invalid(f"{where}: duplicate id or non-positive sla_hours")
        chat = s.get("staff_chat_id")
        email = s.get("email")
        if chat is None and email is None:
            raise _Invalid(f"{where} ({sid}): needs a staff_chat_id or an email")
        if email is not None and "@" not in str(email):
            raise _Invalid(f"{where} ({sid}): invalid email")
        services[sid] = Service(sid, _field(s, where, "name", str), sla, chat, email)
    if not services:
        raise _Invalid("no [[services]]")
    return services


def _parse_categories(
    items: list[dict[str, Any]], services: dict[str, Service]
) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for i, c in enumerate(items, 1):
        where = f"category #{i}"
        _only_keys(c, where, {"id", "service", "duplicate_radius_m"})
        cid = _field(c, where, "id", str)
        service = _field(c, where, "service", str)
        radius = c.get("duplicate_radius_m", DUPLICATE_RADIUS_M)
        if type(radius) is not int or not 0 <= radius <= MAX_DUPLICATE_RADIUS_M:
            raise _Invalid(
                f"{where} ({cid}): duplicate_radius_m must be 0 (no search) to"
                f" {MAX_DUPLICATE_RADIUS_M} metres"
            )
        if cid not in CATEGORY_IDS or cid in categories:
            raise _Invalid(f"{where}: unknown or duplicate category '{cid}'")
        if service not in services:
            raise _Invalid(f"{where} ({cid}): unknown service '{service}'")
        categories[cid] = Category(cid, service, radius)
    missing = [cid for cid in REQUIRED_CATEGORY_IDS if cid not in categories]
    if missing:
        raise _Invalid(f"category '{missing[0]}' has no service")
    return categories


def _parse_staff(
    items: list[dict[str, Any]], services: dict[str, Service]
) -> tuple[StaffMember, ...]:
    staff: list[StaffMember] = []
    for i, s in enumerate(items, 1):
        where = f"staff #{i}"
        _only_keys(s, where, {"messenger", "user_id", "name", "role", "services"})
        messenger = _field(s, where, "messenger", str)
        role = _field(s, where, "role", str)
        member_services = tuple(s.get("services", []))
        if messenger not in MESSENGERS or role not in ROLES:
            raise _Invalid(f"{where}: unknown messenger or role")
        unknown = [sid for sid in member_services if sid not in services]
        if unknown or (role == "operator" and not member_services):
            raise _Invalid(f"{where}: an operator needs known services")
        staff.append(
            StaffMember(
                messenger,
                str(_field(s, where, "user_id", (str, int))),
                _field(s, where, "name", str),
                role,
                member_services,
            )
        )
    if not any(m.role == "admin" for m in staff):
        raise _Invalid("no admin in [[staff]]")
    return tuple(staff)
