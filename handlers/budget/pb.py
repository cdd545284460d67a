"""Participatory budgeting: the admins publish a shortlist of projects with costs and a total;
each resident has one ballot (per messenger account) and chooses projects within the total, or up
to N projects where the municipality file says so, and can change it until voting closes; paper
ballots are added by staff; the results (votes per project, which are funded) go to everyone who
voted and to the budget's followers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from handlers import engine
from handlers.budget.config import MAX_PROJECTS
from handlers.budget.consultation import parse_cost
from handlers.budget.followers import tell, with_followers
from handlers.budget.money import millions
from handlers.context import Context, Step, column, parse_id
from handlers.events import Button, Reply
from handlers.flow import ButtonData
from handlers.i18n import Translator
from handlers.menu import MenuState, main_menu_button
from storage import budget_audit, budget_pb
from storage.budget_audit import Action, Subject
from storage.budget_pb import Project, Round

log = logging.getLogger(__name__)

MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class ShowBallot(ButtonData):
    """A round's shortlist with the resident's ballot."""

    prefix = "pbb"
    round_id: int


@dataclass(frozen=True, slots=True)
class ToggleProject(ButtonData):
    """Choose a project on one's ballot, or take it off."""

    prefix = "pbt"
    round_id: int
    project_id: int


def funded(r: Round, found: list[Project]) -> list[Project]:
    """The projects funded: by votes (then the cheaper, then the older), while the total lasts."""
    left, chosen = r.total, []
    for p in sorted(found, key=lambda x: (-x.votes, x.cost, x.id)):
        if p.votes and p.cost <= left:
            chosen.append(p)
            left -= p.cost
    return chosen


async def overview_part(ctx: Context) -> list[Button]:
    """The budget overview's button while a round is open."""
    r = await budget_pb.current(ctx.conn)
    if r is None or not r.voting:
        return []
    return [ShowBallot(r.id).button(ctx.t.gettext("🗳 Vote: {title}", title=r.title))]


def _rule(ctx: Context, r: Round, found: list[Project], mine: set[int]) -> list[str]:
    """The ballot's rule and how much of it is used, as the municipality file sets it."""
    _ = ctx.t.gettext
    most = max_projects(ctx, r)
    if most is not None:
        return [
            ctx.t.ngettext(
                "Choose up to {n} project; you can change your choice until voting closes.",
                "Choose up to {n} projects; you can change your choice until voting closes.",
                most,
            ),
            _("Chosen: {k} of {n}.", k=len(mine), n=most),
        ]  # fmt: skip
    spent = sum(p.cost for p in found if p.id in mine)
    total = millions(ctx.t, r.total)
    return [
        _("Choose projects worth {total} at most; you can change your choice until voting closes.",
          total=total),
        _("Chosen: {spent} of {total}.", spent=millions(ctx.t, spent), total=total),
    ]  # fmt: skip


def max_projects(ctx: Context, r: Round) -> int | None:
    """Up to how many projects a ballot holds (None: as many as fit the total): the rule the
    round opened with, so a municipality file changed while voting is open does not change it;
    the file's for a round not open yet (or opened before rounds kept their rule)."""
    if r.rule is not None:
        return r.max_projects if r.rule == "projects" else None
    budget = ctx.municipality.budget
    return budget.max_projects if budget else None


def refusal(
    ctx: Context, r: Round, found: list[Project], mine: set[int], project: Project
) -> str | None:
    """Why ``project`` cannot go on the ballot under the round's rule, or None when it can."""
    most = max_projects(ctx, r)
    if most is not None:
        if len(mine) < most:
            return None
        return ctx.t.ngettext(
            "A ballot holds at most {n} project; take one off before you choose {name}.",
            "A ballot holds at most {n} projects; take one off before you choose {name}.",
            most, name=project.name,
        )  # fmt: skip
    left = r.total - sum(p.cost for p in found if p.id in mine)
    if project.cost <= left:
        return None
    return ctx.t.gettext(
        "{name} costs {cost}, and {left} of the total is left; take another project off first.",
        name=project.name, cost=millions(ctx.t, project.cost), left=millions(ctx.t, left),
    )  # fmt: skip


def _ballot_reply(
    ctx: Context, r: Round, found: list[Project], mine: set[int], note: str | None
) -> Reply:
    lines = [*([note, ""] if note else []), f"🗳 {r.title}", *_rule(ctx, r, found, mine)]
    choices = [
        ToggleProject(r.id, p.id).button(
            ("✅ " if p.id in mine else "⬜ ") + f"{p.name} ({millions(ctx.t, p.cost)})"
        )
        for p in found
    ]
    return Reply("\n".join(lines), column([*choices, main_menu_button(ctx)]))


async def show_ballot(ctx: Context, press: ShowBallot, note: str | None = None) -> Step | None:
    """The shortlist with the resident's choices and what is left of the total."""
    r = await budget_pb.get(ctx.conn, press.round_id)
    if r is None:
        return None
    if not r.voting:
        text = ctx.t.gettext("Voting on these projects is not open.")
        return Step(MenuState.MAIN, {}, [Reply(text, column([main_menu_button(ctx)]))])
    found = await budget_pb.projects(ctx.conn, r.id)
    mine = await budget_pb.ballot(ctx.conn, r.id, ctx.user.id)
    return Step(MenuState.MAIN, {}, [_ballot_reply(ctx, r, found, mine, note)])


async def toggle(ctx: Context, press: ToggleProject) -> Step | None:
    """Choose or drop one project, keeping the ballot within the total."""
    r = await budget_pb.get(ctx.conn, press.round_id)
    if r is None:
        return None
    found = await budget_pb.projects(ctx.conn, r.id)
    project = next((p for p in found if p.id == press.project_id), None)
    if project is None:
        return None
    if not r.voting:
        return await show_ballot(ctx, ShowBallot(r.id))
    _ = ctx.t.gettext
    mine = await budget_pb.ballot(ctx.conn, r.id, ctx.user.id)
    if project.id in mine:
        await budget_pb.unchoose(ctx.conn, r.id, ctx.user.id, project.id)
        mine.discard(project.id)
        note = _("Taken off your ballot: {name}.", name=project.name)
    elif (refused := refusal(ctx, r, found, mine, project)) is not None:
        note = refused
    else:
        await budget_pb.choose(ctx.conn, r.id, ctx.user.id, project.id, ctx.now)
        mine.add(project.id)
        note = _("On your ballot: {name}.", name=project.name)
    return Step(MenuState.MAIN, {}, [_ballot_reply(ctx, r, found, mine, note)])


def results(t: Translator, r: Round, found: list[Project]) -> str:
    """Votes per project and which are funded."""
    chosen = {p.id for p in funded(r, found)}
    lines = [t.gettext("🗳 The results of {title}:", title=r.title)]
    for p in sorted(found, key=lambda x: (-x.votes, x.cost, x.id)):
        mark = "✅" if p.id in chosen else "▫️"
        lines.append(
            f"{mark} {p.name} ({millions(t, p.cost)}): " + t.gettext("votes: {n}", n=p.votes)
        )
    spent = sum(p.cost for p in found if p.id in chosen)
    lines.append(
        t.gettext(
            "✅ funded: {spent} of {total}.", spent=millions(t, spent), total=millions(t, r.total)
        )
    )
    return "\n".join(lines)


# Staff: /pb new TOTAL TITLE, /pb add COST NAME, /pb open, /pb paper ID VOTES (or =N, -N),
# /pb close, /pb.


async def command(ctx: Context, args: str) -> Step:
    """/pb and its actions (admins)."""
    action, _sep, rest = args.strip().partition(" ")
    match action:
        case "new":
            return await new_round(ctx, rest)
        case "add":
            return await add(ctx, rest)
        case "open":
            return await open_voting(ctx)
        case "paper":
            return await paper(ctx, rest)
        case "close":
            return await close(ctx)
        case "":
            return await status(ctx)
    return engine.stay(ctx, [Reply(usage(ctx.t))])


def usage(t: Translator) -> str:
    """The /pb actions."""
    return t.gettext(
        "Usage: /pb new TOTAL TITLE, /pb add COST NAME, /pb open, /pb paper PROJECT VOTES"
        " (a mistyped count: /pb paper PROJECT =RIGHT COUNT, or -VOTES to take some back),"
        " /pb close"
    )


def _amount_and_text(rest: str) -> tuple[int, str] | None:
    amount, _sep, text = rest.strip().partition(" ")
    cost = parse_cost(amount)
    text = text.strip()[:MAX_NAME]
    return (cost, text) if cost is not None and text else None


async def new_round(ctx: Context, rest: str) -> Step:
    """/pb new 30.000.000 Title: prepare a round (one at a time)."""
    _ = ctx.t.gettext
    parsed = _amount_and_text(rest)
    if parsed is None:
        return engine.stay(ctx, [Reply(usage(ctx.t))])
    if await budget_pb.current(ctx.conn) is not None:
        return engine.stay(ctx, [Reply(_("A round is already under way; close it first."))])
    total, title = parsed
    round_id = await budget_pb.create(ctx.conn, title, total, ctx.user.id, ctx.now)
    await budget_audit.record(ctx.conn, ctx.user.id, Action.ROUND_PREPARED, Subject.ROUND,
                              round_id, ctx.now, {"title": title, "total": total})  # fmt: skip
    log.info("admin %s prepared participatory budgeting round %s", ctx.user.id, round_id)
    text = _(
        "Prepared: {title}, {total} to share. Add the projects with /pb add COST NAME, then"
        " /pb open.",
        title=title,
        total=millions(ctx.t, total),
    )
    return engine.stay(ctx, [Reply(text)])


async def add(ctx: Context, rest: str) -> Step:
    """/pb add 12.000.000 Name: a project on the prepared round's shortlist."""
    _ = ctx.t.gettext
    r = await budget_pb.current(ctx.conn)
    parsed = _amount_and_text(rest)
    if r is None or r.opened:
        return engine.stay(ctx, [Reply(_("Projects are added to a prepared round: /pb new."))])
    if parsed is None:
        return engine.stay(ctx, [Reply(usage(ctx.t))])
    cost, name = parsed
    if cost > r.total or len(await budget_pb.projects(ctx.conn, r.id)) >= MAX_PROJECTS:
        text = _("A project costs at most the total, and a round has at most 20 projects.")
        return engine.stay(ctx, [Reply(text)])
    project_id = await budget_pb.add_project(ctx.conn, r.id, name, cost, ctx.user.id)
    detail = {"round": r.id, "name": name, "cost": cost}
    await budget_audit.record(ctx.conn, ctx.user.id, Action.PROJECT_ADDED, Subject.PROJECT,
                              project_id, ctx.now, detail)  # fmt: skip
    log.info("admin %s added project %s to round %s", ctx.user.id, project_id, r.id)
    return engine.stay(ctx, [Reply(_("Project #{id} added: {name}.", id=project_id, name=name))])


async def open_voting(ctx: Context) -> Step:
    """/pb open: voting starts; the budget's followers are told."""
    _ = ctx.t.gettext
    r = await budget_pb.current(ctx.conn)
    if r is None or not await budget_pb.projects(ctx.conn, r.id):
        return engine.stay(ctx, [Reply(_("Prepare a round with its projects first."))])
    most = max_projects(ctx, r)
    if not await budget_pb.open_round(ctx.conn, r.id, ctx.user.id, ctx.now, most):
        return engine.stay(ctx, [Reply(_("Voting is already open."))])
    log.info("admin %s opened voting in round %s", ctx.user.id, r.id)
    detail = {"title": r.title, "max_projects": most}
    await budget_audit.record(ctx.conn, ctx.user.id, Action.ROUND_OPENED, Subject.ROUND, r.id,
                              ctx.now, detail)  # fmt: skip

    def render(t: Translator) -> Reply:
        text = t.gettext(
            "🗳 Voting has opened: {title}. Choose the projects the municipality should fund.",
            title=r.title,
        )
        return Reply(text, column([ShowBallot(r.id).button(t.gettext("🗳 Vote"))]))

    audience = await with_followers(ctx.conn)
    return engine.stay(ctx, await tell(ctx, audience, render, Reply(_("Voting is open."))))


async def paper(ctx: Context, rest: str) -> Step:
    """/pb paper PROJECT VOTES: paper ballots counted at the municipality; ``=N`` sets the
    project's paper count right (a mistyped count, a recount), ``-N`` takes N back. Only while
    voting is open: closing sends the results to every voter and follower at once, so a count
    changed after that would no longer match what they were told."""
    r = await budget_pb.current(ctx.conn)
    words = rest.split()
    if r is None or not r.voting or len(words) != 2:  # PROJECT VOTES
        return engine.stay(ctx, [Reply(usage(ctx.t))])
    project_id, count = parse_id(words[0]), words[1]
    shortlist = await budget_pb.projects(ctx.conn, r.id)
    project = next((p for p in shortlist if p.id == project_id), None)
    if project is None:
        return engine.stay(ctx, [Reply(usage(ctx.t))])
    if count.startswith(("=", "-")):
        return await _correct(ctx, r, project, count)
    votes = parse_id(count)
    if not votes:
        return engine.stay(ctx, [Reply(usage(ctx.t))])
    await budget_pb.add_paper_votes(ctx.conn, project.id, votes, ctx.user.id, ctx.now)
    detail = {"round": r.id, "name": project.name, "votes": votes}
    await budget_audit.record(ctx.conn, ctx.user.id, Action.PAPER_VOTES, Subject.PROJECT,
                              project.id, ctx.now, detail)  # fmt: skip
    log.info("admin %s added %s paper votes to project %s", ctx.user.id, votes, project.id)
    text = ctx.t.gettext("Added {votes} paper votes to #{id} {name}.", votes=votes,
                         id=project.id, name=project.name)  # fmt: skip
    return engine.stay(ctx, [Reply(text)])


def corrected_count(old: int, count: str) -> int | None:
    """The paper count a correction asks for (``=N``: N; ``-N``: N fewer), or None when the
    words are not a correction."""
    n = parse_id(count[1:])
    if n is None:
        return None
    return n if count.startswith("=") else old - n


async def _correct(ctx: Context, r: Round, project: Project, count: str) -> Step:
    """Set a project's paper count right, never below zero; audited with the old and new count."""
    old = await budget_pb.paper_count(ctx.conn, project.id)
    new = corrected_count(old, count)
    if new is None:
        return engine.stay(ctx, [Reply(usage(ctx.t))])
    if new < 0:
        text = ctx.t.ngettext(
            "#{id} {name} has {n} paper vote; a correction cannot take it below zero.",
            "#{id} {name} has {n} paper votes; a correction cannot take it below zero.",
            old, id=project.id, name=project.name,
        )  # fmt: skip
        return engine.stay(ctx, [Reply(text)])
    if new == old:
        text = ctx.t.ngettext(
            "#{id} {name} already has {n} paper vote; nothing changed.",
            "#{id} {name} already has {n} paper votes; nothing changed.",
            old, id=project.id, name=project.name,
        )  # fmt: skip
        return engine.stay(ctx, [Reply(text)])
    await budget_pb.correct_paper_votes(ctx.conn, project.id, new - old, ctx.user.id, ctx.now)
    detail = {"round": r.id, "name": project.name, "old": old, "new": new}
    await budget_audit.record(ctx.conn, ctx.user.id, Action.PAPER_CORRECTED, Subject.PROJECT,
                              project.id, ctx.now, detail)  # fmt: skip
    log.info("admin %s corrected the paper votes of project %s", ctx.user.id, project.id)
    text = ctx.t.gettext("Paper votes of #{id} {name} corrected: {old} → {new}.", id=project.id,
                         name=project.name, old=old, new=new)  # fmt: skip
    return engine.stay(ctx, [Reply(text)])


async def close(ctx: Context) -> Step:
    """/pb close: voting ends; the results go to the voters and the budget's followers."""
    _ = ctx.t.gettext
    r = await budget_pb.current(ctx.conn)
    if r is None or not await budget_pb.close_round(ctx.conn, r.id, ctx.user.id, ctx.now):
        return engine.stay(ctx, [Reply(_("No voting is open."))])
    log.info("admin %s closed voting in round %s", ctx.user.id, r.id)
    found = await budget_pb.projects(ctx.conn, r.id)
    detail = {"title": r.title, "funded": [p.id for p in funded(r, found)]}
    await budget_audit.record(ctx.conn, ctx.user.id, Action.ROUND_CLOSED, Subject.ROUND, r.id,
                              ctx.now, detail)  # fmt: skip
    audience = await with_followers(ctx.conn, await budget_pb.voters(ctx.conn, r.id))
    return engine.stay(ctx, await tell(ctx, audience, lambda t: Reply(results(t, r, found))))


async def status(ctx: Context) -> Step:
    """/pb: the round under way with its projects' ids and votes so far."""
    _ = ctx.t.gettext
    r = await budget_pb.current(ctx.conn)
    if r is None:
        return engine.stay(ctx, [Reply(_("No round is under way.") + "\n" + usage(ctx.t))])
    found = await budget_pb.projects(ctx.conn, r.id)
    state = _("voting is open") if r.voting else _("prepared, not open yet")
    lines = [f"🗳 {r.title} ({millions(ctx.t, r.total)}): {state}"]
    lines += [f"#{p.id} {p.name} ({millions(ctx.t, p.cost)}): {p.votes}" for p in found]
    return engine.stay(ctx, [Reply("\n".join(lines))])
