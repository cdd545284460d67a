"""Upgrades: a database built at every earlier schema version, with data, migrates to the newest.

Each database is built with the migration files themselves up to version N, filled with the rows
that a bot of that version would have written (in the columns that version had), then opened by
today's code. Its reports, conversations and outbox must come through, readable by today's queries.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from storage import budget, outbox, plan, reports, users
from storage.db import Database, DatabaseTooNewError, _migrations, latest_version
from tests.conftest import ROOT

AT = "2026-03-02T09:15:00+00:00"
LATER = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

# Rows of the tables each version added, in that version's columns. Applied for every version
# at or above the key, so a database at version N holds what a bot at N could have written.
SEEDS: dict[int, str] = {
    1: f"""
    INSERT INTO users (id, channel, external_id, chat_id, first_name, language, role, created_at)
        VALUES (1, 'telegram', '1001', '1001', 'Ана', 'sr', 'resident', '{AT}'),
               (2, 'telegram', '2002', '2002', 'Оператер', 'sr', 'operator', '{AT}');
    INSERT INTO conversations (user_id, state, draft, updated_at)
        VALUES (1, 'report:location', '{{"category": "roads", "description": "Рупа"}}', '{AT}');
    INSERT INTO reports (id, ref, year, seq, user_id, category, service, description, latitude,
                         longitude, address, status, created_at, updated_at, sla_due_at)
        VALUES (1, 'VLA-2026-00001', 2026, 1, 1, 'roads', 'roads', 'Рупа испред школе', 42.966,
                22.129, 'Школска 1', 'acknowledged', '{AT}', '{AT}', '2026-03-05T09:15:00+00:00');
    INSERT INTO report_photos (report_id, position, path, sha256, channel, file_id)
        VALUES (1, 0, 'photos/ab/abc.jpg', 'abc', 'telegram', 'file-1');
    INSERT INTO report_events (report_id, at, actor_id, kind, old_status, new_status, text)
        VALUES (1, '{AT}', 1, 'created', NULL, 'new', NULL),
               (1, '{AT}', 2, 'status', 'new', 'acknowledged', 'Примљено');
    INSERT INTO outbox (id, channel, chat_id, user_id, payload, status, attempts,
                        next_attempt_at, created_at, sent_at)
        VALUES (1, 'telegram', '1001', 1, '{{"text": "Послато"}}', 'sent', 1, '{AT}', '{AT}',
                '{AT}'),
               (2, 'telegram', '1001', 1, '{{"text": "Пријава је примљена"}}', 'pending', 0,
                '{AT}', '{AT}', NULL);
    INSERT INTO processed_updates (channel, update_id, at) VALUES ('telegram', '77', '{AT}');
    INSERT INTO report_starts (user_id, at) VALUES (1, '{AT}');
    INSERT INTO geocode_cache (query, latitude, longitude, address, at)
        VALUES ('школска 1', 42.966, 22.129, 'Школска 1', '{AT}');
    """,
    2: f"""
    UPDATE users SET services = '["roads"]' WHERE id = 2;
    INSERT INTO staff_members (channel, external_id, role, services, added_by, at)
        VALUES ('telegram', '3003', 'operator', '["water"]', 2, '{AT}');
    INSERT INTO message_refs (channel, chat_id, key, message_id)
        VALUES ('telegram', '-100', 'card:1', '55');
    UPDATE reports SET acknowledged_at = '{AT}' WHERE id = 1;
    INSERT INTO report_events (report_id, at, actor_id, kind, text, public)
        VALUES (1, '{AT}', 2, 'note', 'Интерна белешка', 0);
    """,
    3: f"""
    INSERT INTO subscriptions (user_id, topic, at) VALUES (1, 'consultations', '{AT}');
    INSERT INTO consultations (id, key, title, description, starts_at, ends_at, place,
                               created_at)
        VALUES (1, 'budget-2026', 'Буџет 2026', 'Јавна расправа', '2026-04-01T16:00:00+00:00',
                '2026-04-01T18:00:00+00:00', 'Сала СО', '{AT}');
    INSERT INTO consultation_participants (consultation_id, user_id, remind, attend)
        VALUES (1, 1, 1, 1);
    INSERT INTO consultation_comments (consultation_id, user_id, text, at)
        VALUES (1, 1, 'Више за путеве', '{AT}');
    INSERT INTO broadcasts (id, topic, text, admin_id, total, created_at)
        VALUES (1, 'consultations', 'Позив', 2, 1, '{AT}');
    INSERT INTO outbox (channel, chat_id, user_id, payload, next_attempt_at, created_at,
                        broadcast_id)
        VALUES ('telegram', '1001', 1, '{{"text": "Позив"}}', '{AT}', '{AT}', 1);
    INSERT INTO digests_sent (service, day) VALUES ('roads', '2026-03-02');
    """,
    8: f"""
    INSERT INTO budget_versions (id, year, kind, as_of, file_name, imported_by, imported_at)
        VALUES (1, 2026, 'adopted', '2025-12-20', 'budzet.csv', NULL, '{AT}');
    INSERT INTO budget_lines (version_id, line, side, program, activity, name, function,
                              account, source, planned, executed)
        VALUES (1, 2, 'spending', '0701', '0701-0002', 'Путеви', '451', '425', '01', 100, 0);
    """,
    10: f"""
    INSERT INTO library_titles (id, title, authors, isbn, match_key, search_text, subject,
                                language, source, added_at)
        VALUES (1, 'На Дрини ћуприја', 'Иво Андрић', '9788652140237', 'na drini cuprija|andric ivo',
                'na drini cuprija ivo andric', 'fiction', 'srp', 'marc', '{AT}');
    INSERT INTO library_follows (user_id, kind, value, at) VALUES (1, 'subject', 'fiction', '{AT}');
    INSERT INTO library_readers (user_id, mode, seen_title_id) VALUES (1, 'weekly', 1);
    """,
    12: f"""
    INSERT INTO plan_measures (id, key, parent_id, position, title, responsible, service,
                               starts_on, ends_on, status, progress, weight, late_for, updated_at)
        VALUES (1, '1', NULL, 0, 'Пријава проблема', 'Одељење', 'communal', '2026-01-01',
                '2026-12-31', 'in_progress', 0, NULL, NULL, '{AT}'),
               (2, '1.1', 1, 1, 'Чет-бот', 'Одељење', 'communal', '2026-01-15', '2026-02-28',
                'late', 60, 2, '2026-02-28', '{AT}');
    INSERT INTO plan_milestones (measure_id, position, due_on, text, done_on)
        VALUES (2, 1, '2026-02-15', 'Пробни рад', '2026-02-14');
    INSERT INTO plan_events (measure_id, at, actor_id, kind, old, new, text)
        VALUES (2, '{AT}', 2, 'progress', '20', '60', 'Обука готова'),
               (2, '{AT}', NULL, 'late', '2026-02-28', NULL, NULL);
    INSERT INTO plan_followers (measure_id, user_id, at) VALUES (1, 1, '{AT}');
    """,
    13: f"""
    INSERT INTO plan_comments (measure_id, user_id, text, at, answer, answered_by, answered_at)
        VALUES (2, 1, 'Када почиње?', '{AT}', 'У марту.', 2, '{AT}');
    """,
    14: f"""
    INSERT INTO social_questions (user_id, text, at) VALUES (1, 'Помоћ у кући?', '{AT}');
    INSERT INTO social_feedback (right_key, received, rating, month)
        VALUES ('home_care', 1, 'good', '2026-03');
    """,
    24: f"""
    INSERT INTO plan_measures (id, plan, key, parent_id, position, title, status, progress,
                               updated_at)
        VALUES (3, 'mladi', '1.1', NULL, 0, 'Канцеларија за младе', 'not_started', 0, '{AT}');
    INSERT INTO plan_followers (measure_id, user_id, at) VALUES (3, 1, '{AT}');
    """,
    21: f"""
    INSERT INTO pb_rounds (id, title, total, created_by, created_at, opened_at, opened_by)
        VALUES (1, 'Месна заједница 2027', 1000000000, 2, '{AT}', '{AT}', 2);
    INSERT INTO pb_projects (id, round_id, name, cost, added_by)
        VALUES (1, 1, 'Игралиште', 600000000, 2);
    INSERT INTO pb_paper_votes (project_id, votes, added_by, at) VALUES (1, 11, 2, '{AT}');
    """,
    27: f"""
    INSERT INTO budget_events (at, actor_id, action, object, object_id, detail)
        VALUES ('{AT}', 2, 'paper_votes', 'project', 1, '{{"round": 1, "votes": 11}}');
    """,
}

# The released migrations; a database in the field was built with exactly these files, so
# changing one would leave such databases different from new ones. Add a new migration instead.
RELEASED = {
    1: "59ac6ec58aa0e97bab6776c2f35fa53830ee3e3bd5e012ba2780d629a241ca1f",
    2: "be105df556efa854174ed97bd4a1cc8ccf339046271d06aaac65ea2b533060fb",
    3: "4c3e6e482b4d1d54c8e7ae33ad24a945e9110a4c80de3177f1f2439c213e2e8d",
    4: "f4a1065a445c33b1c0b22d054dcef9eba7f2f76454e437ef2672f720e0a035a2",
    5: "6aba2fba11acbc327c60327548e3995dc431cbf5b3034e380ddf6efe506f23c0",
    # Released on 2026-12-01 (numbers settled after that day's renumberings).
    6: "8d7a68c2d326d39863ea815b92486f7dab066dc2e100a1b4e7cff7584e510aee",
    7: "aa20fe1d40027b085f3ff73daf75ad3c5d412185c91fda96f605415145dd2378",
    8: "5f58d8dc9742716ea808e06d55f7ee177b7734d1eb51b4263eff98ab4348d9be",
    9: "707512327ecc935adeb6d33a623d811e9d014a5ab00da63977be9e849bd0d8d9",
    10: "3f8cacd397d801ecc59822ba814e25e7cdae1b9eb6be8898d4daafd8177a97c6",
    11: "2ac2c1c186bada00db3968c4f59e9651dddf30a6eb215bd606f149e908e4637f",
    12: "fb344029ba5f9a6bf504828b7e15f0d2e8fdbea878a8f515170e5446d1278797",
    13: "039c30dcd6e097a5d5c2a3d769f594d0111d32b0b503e6cec9427aa5af4cdeaa",
    14: "2ea827381b4231faf72a77d330475f5873ca03e45d0fb114fa2a9231f9bfcf2c",
    15: "bced11660b8f1e1062d36e553fab1b4f32b305d0fc42b7a690cb9f9c420fba17",
    16: "aeb1907c5d3fcef3daa39cd2d7295fbb76cfdb7a42b72a5aa1b2cf30fe97b9ae",
    17: "351bb7b5951f4449ace72c7d39546cde92d64c24c3fc9e256bab962791a4318b",
    # Released at stop 18 (2026-12-01, CI passed).
    18: "128ddaef4633067918933bc5f8b0e4e69fd27e0d40b3acee0d161fa3bf8c6831",
    19: "8f7fb31de333ab06d91b28c9af5c2ac116dedff72da999541a6649f51d08b4f8",
    20: "1cdb6ced95a7a6b32a70e10baa2eea67776c3b38053727e0ec07e89f7500873f",
    21: "1dee55f3ed7eb7c87be7f21382fb9afd147aa8cb4825c3cc718e31dcf7ba915d",
    22: "630178c9ba47a71c4a626579ed92f1168765645eb5e99b8efc5d72decf4ab34a",
    23: "06d3e77df54b5673ca5c16218cbb5ce2c3959bb88343f1cbb3482f6b7ea42ff9",
    # Released at stop 19 (2026-12-01, CI passed).
    24: "aee8d0116ffddae998df35f5c5742922f1b95e50dac7e410077546e8bd6ed384",
    25: "8a75a35498f43d2d3bf1fdea17dc0034ba77fbcc257a65483d47ac9aaee581ea",
    # Released at stop 20 (2026-12-01, CI passed).
    26: "6c0f6d3f75bd6b171b08b8fbd5fe276b14f126f0610b9f75a4a61884c89d63bc",
    27: "2191bd543727e2a5ce85fc71f1c8323c94ace1f010c2e0ec5340ae4f23a991ae",
    28: "04e856e6373f4c1eb3f6f4e5f786c5def72e4a32579139b7094092f8600e1683",
    29: "c121131fded9714fd2c5f15b71151f952cbc1d0c5f516d09a49d34133351c390",
    30: "d656d78b03f7414d784251fb847d0a6c00b23eced3cb2c4a3a3b893b2724ade1",
    # Released at stop 21 (2026-12-01, CI passed).
    31: "dfc4b83876d1ed182f748b4e61290a58f404ec612e59fbfac738dc9ad1cbd8fe",
    32: "a44730b2add317ed9db197bbd59911dc65c87920e0deee8afb3bdc2a81324bb3",
    # Released at stop 22 (2026-12-02, CI passed).
    33: "2b7f767d67ae729adaa69d4a2a1ece8cbaeb88ffec37c286e5f3c3783f48ee0d",
}


def build_at(path: Path, version: int) -> None:
    """Build a database with the migration files up to ``version`` and that version's rows."""
    conn = sqlite3.connect(path)
    try:
        for number, sql in _migrations():
            if number > version:
                break
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
        for since, seed in SEEDS.items():
            if since <= version:
                conn.executescript(f"BEGIN;\n{seed}\nCOMMIT;")
    finally:
        conn.close()


def make_newer(path: Path) -> None:
    """Mark the database as migrated by a version of the code newer than this one."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={latest_version() + 1}")
    conn.close()


def counts(path: Path) -> dict[str, int]:
    """Rows per table."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in tables}
    finally:
        conn.close()


@pytest.mark.parametrize("version", range(1, latest_version()))
async def test_a_database_at_each_earlier_version_migrates_with_its_data(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "bot.db"
    build_at(path, version)
    before = counts(path)
    assert before["reports"] == 1

    db = await Database.open(path)
    try:
        assert await db.migrate() == latest_version()
        conn = db.conn
        conversation = await users.load_conversation(conn, "telegram", "1001")
        report = await reports.get_report(conn, 1)
        pending = await outbox.due(conn, ["telegram"], LATER, 10)
        check = await (await conn.execute("PRAGMA integrity_check")).fetchall()
        keys = await (await conn.execute("PRAGMA foreign_key_check")).fetchall()
    finally:
        await db.close()

    assert [tuple(r) for r in check] == [("ok",)]
    assert keys == []
    after = counts(path)
    assert {t: after[t] for t in before} == before
    assert conversation is not None
    assert conversation.state == "report:location"
    assert conversation.draft == {"category": "roads", "description": "Рупа"}
    assert report is not None
    assert report.ref == "VLA-2026-00001"
    assert report.description == "Рупа испред школе"
    assert report.status == "acknowledged"
    assert report.photo_paths == ("photos/ab/abc.jpg",)
    assert [e.kind for e in report.events][:2] == ["created", "status"]
    texts = [row.payload["text"] for row in pending]
    assert "Пријава је примљена" in texts
    assert "Послато" not in texts


def test_every_version_up_to_the_newest_is_covered() -> None:
    numbers = [number for number, _ in _migrations()]
    assert numbers == list(range(1, len(numbers) + 1)), "migrations are numbered 1, 2, 3, ..."
    assert max(SEEDS) <= latest_version()


def test_released_migrations_are_not_edited() -> None:
    folder = ROOT / "storage" / "migrations"
    for number, digest in RELEASED.items():
        (found,) = folder.glob(f"{number:04d}_*.sql")
        assert hashlib.sha256(found.read_bytes()).hexdigest() == digest, found.name


async def test_a_database_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    build_at(path, latest_version())
    make_newer(path)

    with pytest.raises(DatabaseTooNewError, match="newer version"):
        await Database.open(path)

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version() + 1
    conn.close()


@pytest.mark.parametrize("command", [["run"], ["db", "migrate"]])
def test_the_bot_stops_with_one_clear_line_on_a_newer_database(
    tmp_path: Path, command: list[str]
) -> None:
    build_at(tmp_path / "bot.db", latest_version())
    make_newer(tmp_path / "bot.db")
    env = {"BOT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "LOG_LEVEL": "INFO"}

    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=ROOT, env=env, input="", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert len(lines) == 1, done.stderr
    assert f"schema version {latest_version() + 1}" in lines[0]
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("version", range(8, 15))
async def test_budget_versions_imported_before_publishing_existed_stay_published(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "bot.db"
    build_at(path, version)
    db = await Database.open(path)
    try:
        latest = await budget.latest(db.conn)
    finally:
        await db.close()
    assert latest is not None
    assert (latest.kind, latest.file_name) == ("adopted", "budzet.csv")


@pytest.mark.parametrize("version", range(12, 24))
async def test_the_plans_measures_and_their_children_come_through_the_rebuild_per_plan(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "bot.db"
    build_at(path, version)
    db = await Database.open(path)
    try:
        conn = db.conn
        # Stored before plans had ids: the default plan's, once the file's default claims them.
        assert {m.plan for m in await plan.all_measures(conn)} == {""}
        async with db.transaction() as tx:
            assert await plan.claim_unassigned(tx, "ogp") == 2
        (m,) = await plan.by_key(conn, "1.1", "ogp")
        milestones = await plan.milestones(conn, m.id)
        history = await plan.history(conn, m.id)
        followers = await plan.followers(conn, [m.parent_id or 0])
        comment = await plan.get_comment(conn, 1)
        # The key is unique per plan now: another plan may have its own 1.1.
        async with db.transaction() as tx:
            await plan.save_plan(tx, [plan.NewMeasure("1.1", None, "Простор", plan="mladi")],
                                 LATER, keep_progress=True)  # fmt: skip
        keys = [(x.plan, x.key) for x in await plan.all_measures(conn)]
        references = await (await conn.execute(
            "SELECT DISTINCT m.\"table\" FROM sqlite_master s, pragma_foreign_key_list(s.name) m"
            " WHERE s.name LIKE 'plan_%' AND m.\"from\" IN ('measure_id', 'parent_id')"
        )).fetchall()  # fmt: skip
        indexes = {str(r[0]) for r in await (await conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'plan_%'"
            " AND name NOT LIKE 'sqlite_%'"
        )).fetchall()}  # fmt: skip
        # The children still hang on the measure (ON DELETE CASCADE reaches the new table).
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM plan_measures WHERE id = 2")
        left = counts(path)
        check = await (await conn.execute("PRAGMA foreign_key_check")).fetchall()
    finally:
        await db.close()
    assert (m.id, m.status, m.progress, m.weight, m.title) == (2, "late", 60, 2.0, "Чет-бот")
    assert [(x.text, x.done_on) for x in milestones] == [("Пробни рад", date(2026, 2, 14))]
    assert [(e.actor, e.kind, e.text) for e in history] == [
        ("Оператер", "progress", "Обука готова"), (None, "late", None),
    ]  # fmt: skip
    assert [f[0] for f in followers] == [1]
    if version >= 13:
        assert comment is not None
        assert (comment.measure_id, comment.text, comment.answer) == (2, "Када почиње?", "У марту.")
    assert keys == [("mladi", "1.1"), ("ogp", "1"), ("ogp", "1.1")]
    assert [tuple(r) for r in references] == [("plan_measures",)]
    assert indexes >= {
        "plan_measures_by_parent", "plan_measures_by_plan", "plan_events_by_measure",
        "plan_followers_by_user", "plan_comments_by_measure",
    }  # fmt: skip
    assert (left["plan_milestones"], left["plan_events"], left["plan_comments"]) == (0, 0, 0)
    assert check == []
