"""A consultation through the fake Bot API: announce, remind, comment, answer, minutes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.scheduler import find_job, run_job
from tests.conftest import Running

RESIDENT = 5001
ADMIN = 100000101  # the admin of config/vlasotince.toml


async def test_a_consultation_round_trip_on_telegram(running: Running) -> None:
    fake, app = running.fake, running.app
    for user in (RESIDENT, ADMIN):
        fake.push_command(user, "start")
        fake.push_callback(user, "lang:en")
        await running.wait_text(user, "Welcome")
    fake.push_callback(RESIDENT, "menu:notify")
    fake.push_callback(RESIDENT, "sub:consultations")
    await running.wait_text(RESIDENT, "You will be told about: Public consultations.")

    starts = datetime.now(ZoneInfo("Europe/Belgrade")) + timedelta(minutes=30)
    fake.push_command(ADMIN, "consult", "new")
    for answer in [
        "Local action plan 2027", "Proposals for the open-government plan.",
        starts.strftime("%d.%m.%Y %H:%M"), (starts + timedelta(hours=2)).strftime("%d.%m.%Y %H:%M"),
        "Town hall", "-",
    ]:  # fmt: skip
        fake.push_text(ADMIN, answer)
    await running.wait_text(ADMIN, "Announce this to 1 subscriber?")
    (ok,) = [b for b in running.buttons(ADMIN) if b.startswith("cwiz:ok:")]
    fake.push_callback(ADMIN, ok)
    await running.wait_text(RESIDENT, "Local action plan 2027")
    consultation = running.buttons(RESIDENT)[0].split(":")[1]

    fake.push_callback(RESIDENT, f"cr:{consultation}")
    await running.wait_text(RESIDENT, "We will remind you")
    # Both the 24-hour and the 1-hour reminder are due: only the nearest is sent.
    assert (
        await run_job(
            app.db, app.deps, app.sender, find_job(app.deps.registry, "consultation-reminders")
        )
        == 1
    )
    await running.wait_text(RESIDENT, "Reminder: Local action plan 2027")

    fake.push_callback(RESIDENT, f"cc:{consultation}")
    await running.wait_text(RESIDENT, "Write your comment")
    fake.push_text(RESIDENT, "Please publish the budget as open data.")
    await running.wait_text(ADMIN, "Please publish the budget as open data.")
    fake.push_command(ADMIN, "answer", "1 We will, from January.")
    await running.wait_text(RESIDENT, "We will, from January.")

    fake.push_command(ADMIN, "minutes", f"{consultation} 25 residents came; 9 proposals accepted.")
    await running.wait_text(RESIDENT, "9 proposals accepted")
    assert (
        await run_job(
            app.db, app.deps, app.sender, find_job(app.deps.registry, "broadcast-progress")
        )
        == 2
    )
    await running.wait_text(ADMIN, "Delivered: 1")
