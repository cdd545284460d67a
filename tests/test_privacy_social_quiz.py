"""The household facts of the social questionnaire are not kept past 30 minutes when the
questionnaire was interrupted (/language keeps it to be resumed): the answers waiting in the
draft go as those of a questionnaire left open do."""

from __future__ import annotations

from bot.scheduler import find_job, run_job
from tests.conftest import Bot, Press
from tests.test_social import conversation_of, data_of


async def start_the_questionnaire(bot: Bot) -> None:
    await bot.say("ana", "/start")
    await bot.say("ana", Press("lang:en"))
    await bot.say("ana", "/social")
    await bot.say("ana", Press(data_of(bot, "ana", "What could I be entitled to?")))
    await bot.say("ana", Press("socq:1"))
    await bot.say("ana", Press("socq:yes"))  # elderly, living alone


async def test_answers_waiting_behind_a_language_change_are_dropped_after_30_minutes(
    bot: Bot,
) -> None:
    await start_the_questionnaire(bot)
    await bot.say("ana", "/language")  # the questionnaire waits in the draft, to be resumed
    ((state, draft),) = await conversation_of(bot, "ana")
    assert state == "menu:language"
    assert "elderly" in draft
    job = find_job(bot.app.deps.registry, "social-drop-abandoned-answers")
    bot.clock.advance(minutes=29)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, job)
    assert "elderly" in (await conversation_of(bot, "ana"))[0][1]  # not yet
    bot.clock.advance(minutes=2)
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, job)
    assert await conversation_of(bot, "ana") == [("menu:main", "{}")]


async def test_a_resident_who_comes_back_in_time_resumes_the_questionnaire(bot: Bot) -> None:
    await start_the_questionnaire(bot)
    await bot.say("ana", "/language")
    bot.clock.advance(minutes=20)
    resumed = await bot.say("ana", Press("lang:en"))
    assert any("income" in r.text for r in resumed)
    bot.clock.advance(minutes=20)  # 40 minutes since the start, 20 since the last answer
    job = find_job(bot.app.deps.registry, "social-drop-abandoned-answers")
    await run_job(bot.app.db, bot.app.deps, bot.app.sender, job)
    ((state, draft),) = await conversation_of(bot, "ana")
    assert state.startswith("social:")
    assert "elderly" in draft
