"""The uniform program structure of Serbian local budgets: the 17 programs and account groups.

The names are catalog messages (English msgids, Serbian in the catalog); the codes are the
Ministry of Finance's ("Uniformni programi i programske aktivnosti JLS").
"""

from __future__ import annotations

import re

from handlers.i18n import Translator
from handlers.texts import N_

PROGRAMS: dict[str, str] = {
    "1101": N_("Housing, urban and spatial planning"),
    "1102": N_("Communal activities"),
    "1501": N_("Local economic development"),
    "1502": N_("Tourism"),
    "0101": N_("Agriculture and rural development"),
    "0401": N_("Environmental protection"),
    "0701": N_("Transport and roads"),
    "2001": N_("Pre-school education"),
    "2002": N_("Primary education"),
    "2003": N_("Secondary education"),
    "0901": N_("Social and child protection"),
    "1801": N_("Health care"),
    "1201": N_("Culture and information"),
    "1301": N_("Sport and youth"),
    "0602": N_("General services of the local government"),
    "2101": N_("The political system of the local government"),
    "0501": N_("Energy efficiency and renewable energy"),
}

# Revenue by its economic group (the first three digits of the account).
REVENUE_GROUPS: dict[str, str] = {
    "711": N_("Income taxes"),
    "713": N_("Property taxes"),
    "714": N_("Taxes on goods and services"),
    "716": N_("Other taxes"),
    "731": N_("Donations from abroad"),
    "732": N_("Donations from international organisations"),
    "733": N_("Transfers from other levels of government"),
    "741": N_("Property income"),
    "742": N_("Sales of goods and services"),
    "743": N_("Fines"),
    "744": N_("Voluntary transfers"),
    "745": N_("Other revenue"),
    "8": N_("Sales of non-financial assets"),
    "9": N_("Borrowing and sales of financial assets"),
}
OTHER_REVENUE = N_("Other revenue")

# A program activity (0001...) or a project (5001..., P1...) written with its program.
ACTIVITY_CODE = re.compile(r"(\d{4})-([0-9]{4}|P\d{1,3})")
SPENDING_ACCOUNT = re.compile(r"[456]\d{2,5}")
REVENUE_ACCOUNT = re.compile(r"[789]\d{2,5}")


def program_name(t: Translator, code: str) -> str:
    """A program's name in the reader's language."""
    return t.gettext(PROGRAMS[code]) if code in PROGRAMS else code


def revenue_group(account: str) -> str:
    """The group (a key of REVENUE_GROUPS) a revenue account belongs to."""
    if account[:3] in REVENUE_GROUPS:
        return account[:3]
    if account[:1] in REVENUE_GROUPS:
        return account[:1]
    return "745"


def revenue_group_name(t: Translator, group: str) -> str:
    """A revenue group's name in the reader's language."""
    return t.gettext(REVENUE_GROUPS.get(group, OTHER_REVENUE))
