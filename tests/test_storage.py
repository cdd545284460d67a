"""Storage on a real SQLite file: migrations, pragmas, references, the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from storage import outbox, reports, users
from storage.db import Database, _migrations
from storage.outbox import NewMessage, Sent
from storage.reports import NewReport
from storage.sql import run_together

NOW = datetime(2026, 5, 17, 9, 0, tzinfo=UTC)


async def open_db(tmp_path: Path) -> Database:
    return await Database.open(tmp_path / "bot.db")


async def make_user(db: Database, name: str = "ana") -> users.User:
    async with db.transaction() as conn:
        return await users.create_user(
            conn,
            channel="test",
            external_id=name,
            chat_id=name,
            first_name=name,
            role="resident",
            now=NOW,
        )


async def claim(conn: aiosqlite.Connection, ids: list[int]) -> set[int]:
    """Mark rows ``sending`` as the sender does; return those it took."""
    (rows,) = await run_together(conn, [outbox.claim_statement(ids, NOW)])
    return {int(r[0]) for r in rows}


async def mark_sent(conn: aiosqlite.Connection, ids: list[int]) -> None:
    """Mark rows being sent ``sent`` as the sender does."""
    await run_together(conn, outbox.sent_statements([Sent(i) for i in ids], NOW))


async def statuses(conn: aiosqlite.Connection) -> list[str]:
    async with conn.execute("SELECT status FROM outbox ORDER BY id") as cur:
        return [str(r[0]) for r in await cur.fetchall()]


def report_for(user_id: int) -> NewReport:
    return NewReport(user_id, "garbage", "hygiene", "Full container", 42.96, 22.13, None, (), 48)


async def test_migrations_are_applied_once_and_are_idempotent(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    latest = max(n for n, _ in _migrations())
    assert await db.migrate() == latest
    async with db.conn.execute("PRAGMA user_version") as cur:
        assert (await cur.fetchone())[0] == latest  # type: ignore[index]
    await db.close()
    db = await open_db(tmp_path)  # opening again applies nothing new and keeps the data
    assert await db.migrate() == latest
    await db.close()


async def test_pragmas_are_set(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    for pragma, expected in [("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 5000)]:
        async with db.conn.execute(f"PRAGMA {pragma}") as cur:
            assert (await cur.fetchone())[0] == expected  # type: ignore[index]
    await db.close()


async def test_references_count_per_year_and_never_repeat(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    user = await make_user(db)

    async def create(at: datetime) -> str:
        async with db.transaction() as conn:
            return await reports.create_report(conn, "VLA", report_for(user.id), at)

    refs = await asyncio.gather(*(create(NOW) for _ in range(20)))
    assert sorted(refs) == [f"VLA-2026-{i:05d}" for i in range(1, 21)]
    assert await create(datetime(2027, 1, 1, tzinfo=UTC)) == "VLA-2027-00001"
    await db.close()


async def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    user = await make_user(db)

    async def write_then_crash() -> None:
        async with db.transaction() as conn:
            await reports.create_report(conn, "VLA", report_for(user.id), NOW)
            await outbox.enqueue(conn, [NewMessage("test", "ana", user.id, {"text": "hi"})], NOW)
            raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError, match="crash"):
        await write_then_crash()
    assert await reports.count_for_user(db.conn, user.id) == 0
    assert await outbox.pending_count(db.conn) == 0
    await db.close()


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    import sqlite3

    db = await open_db(tmp_path)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await reports.create_report(conn, "VLA", report_for(999), NOW)
    await db.close()


async def test_conversation_state_survives_reopening(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    user = await make_user(db)
    async with db.transaction() as conn:
        await users.save_state(
            conn, user.id, "report:photos", {"description": "Лампа не ради"}, NOW
        )
    await db.close()
    db = await open_db(tmp_path)
    conversation = await users.load_conversation(db.conn, "test", "ana")
    assert conversation is not None
    assert (conversation.state, conversation.draft) == (
        "report:photos",
        {"description": "Лампа не ради"},
    )
    await db.close()


async def test_outbox_rows_come_due_in_order(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    user = await make_user(db)
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn, [NewMessage("test", "ana", user.id, {"text": str(i)}) for i in range(3)], NOW
        )
        await outbox.enqueue(conn, [NewMessage("test", "bob", None, {"text": "b"})], NOW)
    due = await outbox.due(db.conn, ["test"], NOW, 10)
    assert [r.payload["text"] for r in due] == ["0", "b"]  # the first of each chat
    async with db.transaction() as conn:
        await claim(conn, [due[0].id])
        await mark_sent(conn, [due[0].id])
    assert [r.payload["text"] for r in await outbox.due(db.conn, ["test"], NOW, 10)] == ["1", "b"]
    assert await outbox.due(db.conn, ["viber"], NOW, 10) == []
    await db.close()


async def test_old_delivered_messages_and_update_ids_are_purged(tmp_path: Path) -> None:
    from datetime import timedelta

    from handlers.jobs import purge_old
    from storage import updates

    db = await open_db(tmp_path)
    user = await make_user(db)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [NewMessage("test", "ana", user.id, {"text": "old"})] * 2, NOW)
        await claim(conn, [1])
        await mark_sent(conn, [1])
        await updates.claim_update(conn, "test", "1", NOW)
    async with db.transaction() as conn:
        await purge_old(conn, None, NOW + timedelta(days=91))  # type: ignore[arg-type]
    assert await outbox.pending_count(db.conn) == 1  # the pending one stays
    async with db.conn.execute("SELECT COUNT(*) FROM outbox") as cur:
        assert (await cur.fetchone())[0] == 1  # type: ignore[index]
    async with db.transaction() as conn:
        assert await updates.claim_update(conn, "test", "1", NOW)  # forgotten: claimable again
    await db.close()


async def test_the_reader_sees_committed_rows_only(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    message = NewMessage("test", "ana", None, {"text": "hi"})
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [message], NOW)
        assert await outbox.due(conn, ["test"], NOW, 10)  # the writer sees its own row
        assert await outbox.due(db.reader, ["test"], NOW, 10) == []
    assert [r.payload for r in await outbox.due(db.reader, ["test"], NOW, 10)] == [{"text": "hi"}]
    await db.close()


async def test_outbox_ids_are_not_handed_out_again_after_a_purge(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    message = NewMessage("test", "ana", None, {"text": "hi"})
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [message, message], NOW)
    rows = await outbox.due(db.reader, ["test"], NOW, 10)
    async with db.transaction() as conn:
        await claim(conn, [r.id for r in rows])
        await mark_sent(conn, [r.id for r in rows])
        await outbox.purge(conn, NOW.replace(year=2027))
        await outbox.enqueue(conn, [message], NOW)
    (fresh,) = await outbox.due(db.reader, ["test"], NOW, 10)
    assert fresh.id > max(r.id for r in rows)
    await db.close()


async def test_a_mark_takes_only_a_row_in_the_state_it_expects(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    async with db.transaction() as conn:
        await outbox.enqueue(conn, [NewMessage("test", "ana", None, {"text": "hi"})], NOW)
    (row,) = await outbox.due(db.reader, ["test"], NOW, 10)
    async with db.transaction() as conn:
        await mark_sent(conn, [row.id])
        assert await statuses(conn) == ["pending"]  # not being sent: no sent mark
        await outbox.give_up_chat(conn, row, "unreachable")
        assert await claim(conn, [row.id]) == set()
        await mark_sent(conn, [row.id])
        assert await statuses(conn) == ["unreachable"]
    await db.close()


async def test_a_broadcast_is_finished_only_when_its_last_message_is_sent(tmp_path: Path) -> None:
    from handlers.broadcast import progress_updates
    from storage import broadcasts

    db = await open_db(tmp_path)
    async with db.transaction() as conn:
        b = await broadcasts.create(conn, "communal", "No water", None, None, None, 2, NOW)
        await outbox.enqueue(
            conn,
            [NewMessage("test", who, None, {"text": "No water"}, b) for who in ("ana", "bob")],
            NOW,
        )
    first, last = await outbox.due(db.reader, ["test"], NOW, 10)
    async with db.transaction() as conn:
        assert await claim(conn, [first.id, last.id]) == {first.id, last.id}
        await mark_sent(conn, [first.id])
        await progress_updates(conn, NOW)
        assert [r.id for r in await broadcasts.running(conn)] == [b]  # the last is on its way
        assert (await broadcasts.progress(conn, b)).pending == 1
        await mark_sent(conn, [last.id])
        await progress_updates(conn, NOW)
        assert await broadcasts.running(conn) == []
    await db.close()
