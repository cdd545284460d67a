"""A title the library acquired: its fields, the keys that find it again, and its subject."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from handlers.i18n import to_latin
from handlers.texts import N_

# Subjects residents follow, from the UDC class of the book (README, "The town library").
SUBJECTS: dict[str, str] = {
    "children": N_("Children's books"),
    "fiction": N_("Fiction and poetry"),
    "local_history": N_("Local history"),
    "history": N_("History and geography"),
    "science": N_("Science and mathematics"),
    "technology": N_("Medicine and technology"),
    "arts": N_("Arts and sports"),
    "society": N_("Society, law and economics"),
    "language": N_("Language and linguistics"),
    "philosophy": N_("Philosophy and psychology"),
    "religion": N_("Religion"),
    "general": N_("General works and computing"),
    "other": N_("Other"),
}
# UNIMARC 101$a (ISO 639-2) codes the catalogs name; other codes are shown as they are.
LANGUAGE_NAMES: dict[str, str] = {
    "srp": N_("Serbian"),
    "hun": N_("Hungarian"),
    "eng": N_("English"),
    "ger": N_("German"),
    "fre": N_("French"),
    "rus": N_("Russian"),
}
# The main UDC classes after the special cases (children's, literature, local history, language).
_UDC_MAIN = {
    "0": "general",
    "1": "philosophy",
    "2": "religion",
    "3": "society",
    "5": "science",
    "6": "technology",
    "7": "arts",
    "9": "history",
}


class InvalidIsbnError(ValueError):
    """The text is not an ISBN-10 or ISBN-13 with a right check digit."""


@dataclass(frozen=True, slots=True)
class NewTitle:
    """A title as an import reads it (not stored yet)."""

    title: str
    authors: tuple[str, ...] = ()
    isbn: str | None = None  # ISBN-13, digits only
    publisher: str | None = None
    year: str | None = None
    udc: str | None = None
    language: str | None = None  # ISO 639-2, as UNIMARC 101$a
    responsibility: str | None = None  # 200$f as printed on the title page
    link: str | None = None  # a feed entry's own page

    @property
    def subject(self) -> str:
        """The residents' subject of this title."""
        return subject_of(self.udc)

    @property
    def match_key(self) -> str:
        """The normalised title and first author: the same book in another record."""
        return match_key(self.title, self.authors[0] if self.authors else "")


def subject_of(udc: str | None) -> str:
    """The subject of a UDC class (675$a): 821.163.41-93 is children's, 821 fiction, ..."""
    code = (udc or "").strip()
    if not code or not code[0].isdigit():
        return "other"
    if "-93" in code:  # the UDC auxiliary for works for children and young people
        return "children"
    if code.startswith("82"):
        return "fiction"
    if code.startswith("908"):  # area studies: the town and its region
        return "local_history"
    if code.startswith("81"):
        return "language"
    return _UDC_MAIN.get(code[0], "other")


def normalise(text: str) -> str:
    """Lower case, in Latin script, without accents or punctuation: Андрић and Andric meet."""
    latin = to_latin(text.casefold()).replace("đ", "dj")
    plain = unicodedata.normalize("NFKD", latin)
    bare = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[^\W_]+", bare))


def match_key(title: str, author: str) -> str:
    """Title and author, normalised; the author's names in any order (Andrić, Ivo = Ivo Andrić)."""
    return normalise(title) + "|" + " ".join(sorted(normalise(author).split()))


def isbn13(raw: str) -> str:
    """The ISBN-13 of an ISBN-10 or ISBN-13 written with or without hyphens.

    Raises:
        InvalidIsbnError: when the text is no ISBN or its check digit is wrong.
    """
    digits = re.sub(r"[\s-]", "", raw).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        if total % 11:
            raise InvalidIsbnError(raw)
        digits = "978" + digits[:9]
        return digits + _check13(digits)
    if re.fullmatch(r"97[89]\d{10}", digits) and _check13(digits[:12]) == digits[12]:
        return digits
    raise InvalidIsbnError(raw)


def _check13(first12: str) -> str:
    total = sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)
