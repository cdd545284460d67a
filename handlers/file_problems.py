"""Problems of a file staff import, each by line and column; such a file is refused whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handlers.events import MAX_FILE_BYTES
from handlers.i18n import Translator

MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong at one place of the file; ``message`` is a msgid with ``params``."""

    line: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


class FileProblemsError(Exception):
    """The file has problems; nothing of it may be stored."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        super().__init__(f"{file}: {len(problems)} problem(s)")
        self.file = file
        self.problems = problems

    def render(self, t: Translator, limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
        """Each problem in the reader's language, naming the file, the line and the column."""
        lines = [
            t.gettext(
                "{file}, line {line}, column {column}: {problem}",
                file=self.file,
                line=p.line,
                column=p.column,
                problem=t.gettext(p.message, **p.params),
            )
            for p in self.problems[:limit]
        ]
        if len(self.problems) > limit:
            lines.append(t.gettext("(problems not shown: {n})", n=len(self.problems) - limit))
        return lines


def undelivered_text(t: Translator, size: int) -> str:
    """Why a sent document has no content: too large to take, or it did not come through."""
    if size > MAX_FILE_BYTES:
        return t.gettext(
            "The file is larger than {mb} MB, too large for the chat. Send a smaller one, or"
            " import it on the server with the command line.",
            mb=MAX_FILE_BYTES // (1024 * 1024),
        )
    return t.gettext(
        "The file did not come through (the messenger did not give it). Send it again."
    )
