"""The library's import of new acquisitions: MARC (ISO 2709, MARCXML), CSV and XLSX; all or
nothing; titles already known are not added twice; the command line does the same."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymarc import Field, Indicators, Subfield

from handlers.library import importing
from handlers.library.reading import ImportRefusedError, read_titles
from handlers.library.titles import NewTitle, isbn13, match_key, subject_of
from storage.db import Database
from tests.conftest import ROOT
from tests.library_records import iso2709, marcxml, unimarc, xlsx

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DRINA = unimarc("На Дрини ћуприја", "Андрић", "Иво", isbn="978-86-521-4023-7", publisher="Лагуна")
KIS = unimarc(
    "Rani jadi", "Kiš", "Danilo", isbn="9789630700009", udc="821.163.41-93", language="srp"
)
ZOMBOR = unimarc(
    "Zombor története", "Kovács", "Anna", udc="908(497.113 Sombor)", language="hun",
    coauthor=("Szabó", "Péter"),
)  # fmt: skip


@pytest.mark.parametrize("build", [iso2709, marcxml], ids=["iso2709", "marcxml"])
def test_unimarc_records_are_read_field_by_field(build: object) -> None:
    assert callable(build)
    titles = read_titles("nove.mrc", build(DRINA, KIS, ZOMBOR))

    assert titles[0] == NewTitle(
        title="На Дрини ћуприја",
        authors=("Иво Андрић",),
        isbn="9788652140237",
        publisher="Лагуна",
        year="2026",
        udc="821.163.41-31",
        language="srp",
        responsibility="Иво Андрић",
    )
    assert [t.subject for t in titles] == ["fiction", "children", "local_history"]
    assert titles[1].title == "Rani jadi"
    assert titles[2].authors == ("Anna Kovács", "Péter Szabó")
    assert titles[2].language == "hun"


@pytest.mark.parametrize("build", [iso2709, marcxml], ids=["iso2709", "marcxml"])
def test_co_authors_in_701_are_authors_and_a_translator_in_702_is_not(build: object) -> None:
    assert callable(build)
    record = unimarc("Добри знаци", "Пратчет", "Тери", coauthor=("Гејмен", "Нил"))
    record.fields += [
        Field("701", Indicators(" ", "1"), [Subfield("a", "Трећи,"), Subfield("b", "Аутор")]),
        # 702: secondary responsibility (here the translator, relator code 730), not an author.
        Field("702", Indicators(" ", "1"),
              [Subfield("a", "Јовановић"), Subfield("b", "Зоран"), Subfield("4", "730")]),
    ]  # fmt: skip
    (title,) = read_titles("nove.mrc", build(record))
    assert title.authors == ("Тери Пратчет", "Нил Гејмен", "Аутор Трећи")
    key = match_key(title.title, title.authors[0])
    assert key == match_key("Dobri znaci", "Pratčet Teri")  # the first author names the book


def test_a_broken_marc_file_is_refused_naming_the_record_and_field() -> None:
    no_title = unimarc("x", "Петровић", "Петар")
    no_title.remove_fields("200")
    bad_isbn = unimarc("Сеобе", "Црњански", "Милош", isbn="978-86-521-4023-0")

    with pytest.raises(ImportRefusedError) as refused:
        read_titles("export.mrc", iso2709(DRINA, no_title, bad_isbn))

    assert refused.value.errors == (
        "export.mrc, record 2, field 200$a: no title",
        "export.mrc, record 3, field 010$a: not a valid ISBN: 978-86-521-4023-0",
    )


def test_a_damaged_iso2709_record_is_named() -> None:
    data = bytearray(iso2709(DRINA, KIS))
    data[12:17] = b"zzzzz"  # the first record's base address of data
    with pytest.raises(ImportRefusedError, match=r"export.mrc, record 1: not a valid MARC record"):
        read_titles("export.mrc", bytes(data))


def test_csv_in_windows_1250_with_semicolons_and_serbian_headers() -> None:
    text = (
        "Naslov;Autor;ISBN;Izdavač;Godina;UDK;Jezik\r\n"
        "Derviš i smrt;Meša Selimović;86-521-0025-X;Laguna;2025;821.163.4-31;srp\r\n"
        "Čudesna priča;Ana Đorđević; ;;;;\r\n"
    )

    titles = read_titles("knjige.csv", text.encode("cp1250"))

    assert titles[0].title == "Derviš i smrt"
    assert titles[0].isbn == isbn13("86-521-0025-X")
    assert titles[0].publisher == "Laguna"
    assert titles[1] == NewTitle(title="Čudesna priča", authors=("Ana Đorđević",))


def test_csv_in_utf8_with_commas_and_several_authors() -> None:
    text = '\ufefftitle,author,isbn,year\n"Приче, песме","Јован Јовановић; Мира Мирић",,2024\n'

    (title,) = read_titles("list.csv", text.encode())

    assert title.title == "Приче, песме"
    assert title.authors == ("Јован Јовановић", "Мира Мирић")
    assert title.year == "2024"


def test_a_csv_file_with_errors_is_refused_whole_naming_line_and_column() -> None:
    text = (
        "title;author;isbn;year\n"
        "Good one;A. Author;;2024\n"
        "Bad ISBN;B. Author;978-1-2345-6789-0;2024\n"
        ";C. Author;;20x4\n"
    )

    with pytest.raises(ImportRefusedError) as refused:
        read_titles("new.csv", text.encode())

    assert refused.value.errors == (
        "new.csv, line 3, column 3 (isbn): not a valid ISBN: 978-1-2345-6789-0",
        "new.csv, line 4, column 1 (title): empty",
        "new.csv, line 4, column 4 (year): not a year: 20x4",
    )


def test_errors_name_the_line_of_the_file_across_blank_lines_and_multi_line_cells() -> None:
    # Blank rows are skipped, yet the line named is the one the librarian's editor shows; a quoted
    # cell over two lines moves every later line by one.
    text = 'title;isbn;year\nA;;2020\n\n\n"Two\nlines";;2021\nB;;20x1\n'

    with pytest.raises(ImportRefusedError) as refused:
        read_titles("new.csv", text.encode())

    assert refused.value.errors == ("new.csv, line 7, column 3 (year): not a year: 20x1",)

    content = xlsx([["Наслов", "Година"], ["A", 2020], [None, None], ["B", "20x1"]])
    with pytest.raises(ImportRefusedError) as refused:
        read_titles("nabavka.xlsx", content)
    assert refused.value.errors == ("nabavka.xlsx, line 4, column B (year): not a year: 20x1",)


def test_a_header_without_a_title_column_is_refused() -> None:
    with pytest.raises(ImportRefusedError) as refused:
        read_titles("x.csv", b"name;writer\nA;B\n")
    assert refused.value.errors == (
        "x.csv, line 1, column 1: unknown column 'name'",
        "x.csv, line 1, column 2: unknown column 'writer'",
        "x.csv, line 1: no column 'title'",
    )


def test_xlsx_with_isbn_and_year_typed_as_numbers() -> None:
    content = xlsx(
        [
            ["Наслов", "Аутор", "ISBN", "Година", "УДК"],
            ["Историја Власотинца", "Петар Петровић", 9788652140237, 2026, "908(497.11)"],
            ["Bad", "X", "123", "year", ""],
        ]
    )
    with pytest.raises(ImportRefusedError) as refused:
        read_titles("nabavka.xlsx", content)
    assert refused.value.errors == (
        "nabavka.xlsx, line 3, column C (isbn): not a valid ISBN: 123",
        "nabavka.xlsx, line 3, column D (year): not a year: year",
    )

    (title,) = read_titles("nabavka.xlsx", content[:0] or xlsx([
        ["Наслов", "Аутор", "ISBN", "Година", "УДК"],
        ["Историја Власотинца", "Петар Петровић", 9788652140237, 2026, "908(497.11)"],
    ]))  # fmt: skip
    assert title.isbn == "9788652140237"
    assert title.year == "2026"
    assert title.subject == "local_history"


def test_isbn_10_and_13_are_the_same_book_and_check_digits_are_checked() -> None:
    assert isbn13("86-521-0025-X") == isbn13("978-86-521-0025-5")
    with pytest.raises(ValueError, match="86-521-0025-1"):
        isbn13("86-521-0025-1")


def test_the_same_title_and_author_meet_across_scripts_and_name_order() -> None:
    assert match_key("На Дрини ћуприја", "Андрић, Иво") == match_key(
        "Na Drini ćuprija", "Ivo Andric"
    )
    assert match_key("Na Drini ćuprija", "Ivo Andrić") != match_key("Prokleta avlija", "Ivo Andrić")


@pytest.mark.parametrize(
    ("udc", "subject"),
    [
        ("821.163.41-93", "children"), ("821.111-31", "fiction"), ("82-1", "fiction"),
        ("908(497.11)", "local_history"), ("94(497.11)", "history"), ("811.163.41", "language"),
        ("004.42", "general"), ("159.9", "philosophy"), ("27", "religion"), ("34", "society"),
        ("51", "science"), ("61", "technology"), ("78", "arts"), ("", "other"), ("x", "other"),
    ],
)  # fmt: skip
def test_udc_classes_give_the_residents_subjects(udc: str, subject: str) -> None:
    assert subject_of(udc) == subject


async def test_known_titles_are_not_added_twice(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        async with db.transaction() as conn:
            first = await importing.preview(conn, "a.mrc", iso2709(DRINA, KIS))
            assert (first.read, len(first.new)) == (2, 2)
            assert len(await importing.store(conn, first, NOW)) == 2
        again = (
            "title;author;isbn\n"
            "Na Drini ćuprija;Ivo Andrić;\n"  # the same book by title and author, in Latin
            "Nešto drugo;Neko;978-9630700009\n"  # the same ISBN as Rani jadi
            "Nova knjiga;Nova Autorka;\n"
            "Nova knjiga;Autorka, Nova;\n"  # repeated within the file
        )
        async with db.transaction() as conn:
            second = await importing.preview(conn, "b.csv", again.encode())
            assert [t.title for t in second.new] == ["Nova knjiga"]
            assert second.duplicates == 3
            assert len(await importing.store(conn, second, NOW)) == 1
        rows = await db.conn.execute_fetchall("SELECT title, source FROM library_titles")
    finally:
        await db.close()
    assert sorted(tuple(r) for r in rows) == [
        ("Nova knjiga", "csv"), ("Rani jadi", "marc"), ("На Дрини ћуприја", "marc"),
    ]  # fmt: skip


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"BOT_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "library", "import", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _stored(tmp_path: Path) -> list[str]:
    conn = sqlite3.connect(tmp_path / "data" / "bot.db")
    try:
        return [str(r[0]) for r in conn.execute("SELECT title FROM library_titles ORDER BY id")]
    finally:
        conn.close()


def test_the_command_line_imports_refuses_and_does_not_repeat(tmp_path: Path) -> None:
    good = tmp_path / "nove.xml"
    good.write_bytes(marcxml(DRINA, KIS))
    bad = tmp_path / "lose.csv"
    bad.write_bytes(b"title;isbn\nOk;\nNot ok;12\n")

    dry = _cli(tmp_path, str(good), "--dry-run")
    refused = _cli(tmp_path, str(bad))
    assert _stored(tmp_path) == []
    done = _cli(tmp_path, str(good))
    repeated = _cli(tmp_path, str(good))

    # In the staff's language (Vlasotince's first: Serbian, Cyrillic), from the catalogs.
    assert (dry.returncode, dry.stdout) == (
        0,
        "nove.xml: прочитана 2 наслова, било би додато 2, већ познатих 0\n",
    )
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "lose.csv, ред 3, колона 2 (isbn): није исправан ISBN: 12",
        "moja-opstina: lose.csv је одбијена; ништа није сачувано.",
    ]
    assert done.stdout == "nove.xml: прочитана 2 наслова, додато 2, већ познатих 0\n"
    assert repeated.stdout == "nove.xml: прочитана 2 наслова, додато 0, већ познатих 2\n"
    assert _stored(tmp_path) == ["На Дрини ћуприја", "Rani jadi"]
