"""The retention covers more than reports: questions on the plan and to the Centre for Social
Work once answered (or never answered) that long ago, the comments and photos of consultations
ended that long ago, and the reasons given for suggested books once the library answered; and
/privacy says so."""

from __future__ import annotations

from bot.scheduler import find_job, run_job
from storage import library_suggestions, plan, social, users
from tests.conftest import Office, Picture, jpeg
from tests.test_consultations import commenting
from tests.test_privacy import photo_files

QUESTION = "Can my mother, who lives alone, get home care?"
PLAN_COMMENT = "When will the quarterly report be published?"
REASON = "My grandson reads it for school"
COMMENT = "A bench by the river, please"


async def ids_of(office: Office, *names: str) -> list[int]:
    found = []
    for name in names:
        conversation = await users.load_conversation(office.bot.app.db.conn, "test", name)
        assert conversation is not None
        found.append(conversation.user.id)
    return found


async def words_everywhere(office: Office) -> None:
    """A consultation comment with a photo; an answered question to the Centre, an unanswered
    one and a comment on the plan; a suggested book with its reason, answered."""
    await commenting(office, "ana")
    await office.bot.play("ana", [(Picture(jpeg("red"), caption=COMMENT), ["Thank you!"])])
    ana, boss = await ids_of(office, "ana", "boss")
    app, now = office.bot.app, office.bot.clock.now()
    async with app.db.transaction() as conn:
        asked = await social.add_question(conn, ana, QUESTION, now)
        await social.answer_question(conn, asked, "Yes, call us.", boss, now)
        await social.add_question(conn, ana, "Never answered, asked today", now)
        row = await (await conn.execute("SELECT min(id) FROM plan_measures")).fetchone()
        assert row is not None
        commented = await plan.add_comment(conn, int(row[0]), ana, PLAN_COMMENT, now)
        await plan.answer_comment(conn, commented, "In July.", boss, now)
        wanted = await library_suggestions.create(
            conn, "Сеобе", "Милош Црњански", None, "seobe", REASON, ana, now
        )
        await library_suggestions.answer(conn, wanted, "ordered", None, boss, now)


async def texts_left(office: Office) -> list[str]:
    conn = office.bot.app.db.conn
    rows = await (await conn.execute(
        "SELECT text FROM social_questions UNION ALL SELECT text FROM plan_comments"
        " UNION ALL SELECT text FROM consultation_comments"
        " UNION ALL SELECT reason FROM library_supporters WHERE reason IS NOT NULL"
    )).fetchall()  # fmt: skip
    return sorted(str(r[0]) for r in rows)


async def test_retention_deletes_old_questions_comments_photos_and_reasons(
    office: Office,
) -> None:
    await words_everywhere(office)
    assert len(photo_files(office.bot)) == 1
    app = office.bot.app
    retention = find_job(app.deps.registry, "privacy-retention")
    office.bot.clock.advance(days=30 * 23)  # 23 months: everything stays
    await run_job(app.db, app.deps, app.sender, retention)
    assert len(await texts_left(office)) == 5
    office.bot.clock.advance(days=92)  # past 24 months since the answers and the consultation
    await run_job(app.db, app.deps, app.sender, retention)
    assert await texts_left(office) == []
    assert photo_files(office.bot) == []
    # The suggested title stays for the library's counts, without anyone's reason.
    kept = await (await app.db.conn.execute("SELECT title FROM library_suggestions")).fetchall()
    assert [r[0] for r in kept] == ["Сеобе"]


async def test_privacy_says_how_long_the_questions_comments_and_reasons_are_kept(
    office: Office,
) -> None:
    (notice,) = await office.bot.say("mila", "/privacy")
    assert "your questions on the action plan and to the Centre for Social Work are deleted" in (
        notice.text
    )
    assert "that long after their consultation ended" in notice.text
