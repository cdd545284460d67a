"""The action plan's buttons (typed data, packed and unpacked by the engine)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.flow import ButtonData


@dataclass(frozen=True, slots=True)
class ShowPlan(ButtonData):
    """The plan: the choice of plans when there are several, else its commitments."""

    prefix = "plan"


@dataclass(frozen=True, slots=True)
class OpenPlan(ButtonData):
    """One plan's commitments with their progress."""

    prefix = "pplan"
    plan: str


@dataclass(frozen=True, slots=True)
class ShowMeasure(ButtonData):
    """One measure: its progress, milestones and activities."""

    prefix = "pms"
    measure_id: int


@dataclass(frozen=True, slots=True)
class MeasureHistory(ButtonData):
    """A measure's changes, with who and when."""

    prefix = "phist"
    measure_id: int


@dataclass(frozen=True, slots=True)
class FollowMeasure(ButtonData):
    """Follow a measure (or stop following it)."""

    prefix = "pfol"
    measure_id: int


@dataclass(frozen=True, slots=True)
class CommentOnMeasure(ButtonData):
    """Comment on a measure or ask about it."""

    prefix = "pcom"
    measure_id: int


@dataclass(frozen=True, slots=True)
class MoreCommitments(ButtonData):
    """The next screen of a plan's commitments, from the ``start``-th."""

    prefix = "pplm"
    plan: str
    start: int


@dataclass(frozen=True, slots=True)
class MoreActivities(ButtonData):
    """The next screen of a measure's activities, from the ``start``-th."""

    prefix = "pmsm"
    measure_id: int
    start: int
