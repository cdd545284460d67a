"""Names shown to people for categories and statuses (catalog messages marked for extraction)."""

from __future__ import annotations

from handlers.i18n import Translator
from storage.duplicates import FOLLOWER_PART


def N_(message: str) -> str:
    """Mark a message for the catalogs without translating it here."""
    return message


CATEGORY_NAMES = {
    "road_damage": N_("Road damage and potholes"),
    "street_lighting": N_("Street lighting"),
    "garbage": N_("Garbage and waste collection"),
    "illegal_dumping": N_("Illegal dumping"),
    "water_sewage": N_("Water supply and sewage"),
    "green_areas": N_("Green areas and trees"),
    "stray_animals": N_("Stray animals"),
    "traffic_signs": N_("Traffic signs and signals"),
    "power_supply": N_("Power lines and power cuts"),
    "abandoned_vehicles": N_("Abandoned vehicles"),
    "other": N_("Other"),
}

STATUS_NAMES = {
    "new": N_("new"),
    "acknowledged": N_("acknowledged"),
    "in_progress": N_("in progress"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "reopened": N_("reopened"),
    "rejected": N_("rejected"),
    "handed_off": N_("handed over to the responsible body"),
}

EVENT_NAMES = {
    "created": N_("Report received"),
    "status": N_("Status changed"),
    "reply": N_("Answer from the municipality"),
    "question": N_("Question from the municipality"),
    "answer": N_("Your answer"),
    "comment": N_("Your comment"),
    FOLLOWER_PART: N_("From a resident who follows it"),
    "rerouted": N_("Passed to another service"),
    "fix_photo": N_("Photo of the fix"),
    "note": N_("Internal note"),
    "unpublished": N_("Taken out of the open data"),
    "published": N_("Published in the open data again"),
}


def category_name(t: Translator, category_id: str) -> str:
    """Return a category's name in the user's language."""
    return t.gettext(CATEGORY_NAMES.get(category_id, CATEGORY_NAMES["other"]))


def status_name(t: Translator, status: str) -> str:
    """Return a status's name in the user's language."""
    return t.gettext(STATUS_NAMES.get(status, status))


def event_name(t: Translator, kind: str) -> str:
    """Return the name of a history entry in the user's language."""
    return t.gettext(EVENT_NAMES.get(kind, EVENT_NAMES["status"]))


TOPIC_NAMES = {
    "consultations": N_("Public consultations"),
    "budget": N_("Budget"),
    "library": N_("Library news"),
    "communal": N_("Communal announcements (water or power cuts, works)"),
}


def topic_name(t: Translator, topic: str) -> str:
    """Return a subscription topic's name in the user's language."""
    return t.gettext(TOPIC_NAMES.get(topic, topic))
