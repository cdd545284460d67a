"""The resident's conversation as dialog tables over a collecting channel."""

from __future__ import annotations

import asyncio
from pathlib import Path

from handlers.events import Sender, Unsupported
from storage import reports
from tests.conftest import SCHOOL, Bot, DialogInput, Picture, Pin, Press, jpeg

CENTRE = Pin(42.9665, 22.1285)
FIL = Sender("test", "fil", "fil", "Fil")


async def start_in_english(bot: Bot, user: str) -> None:
    await bot.play(
        user,
        [
            ("/start", ["Choose your language and script:"]),
            (Press("lang:en"), ["Language set: English.", "Welcome to Moja opština", "Vlasotince"]),
        ],
    )


async def test_a_resident_reports_a_pothole_with_photos_and_a_location(bot: Bot, settings) -> None:  # type: ignore[no-untyped-def]
    await start_in_english(bot, "ana")
    await bot.play(
        "ana",
        [
            (Press("menu:report"), ["What kind of problem is it?"]),
            (Press("cat:road_damage"), ["Describe the problem"]),
            ("Deep pothole in Nemanjina street, in front of number 12", ["Send up to 3 photos"]),
            (Picture(jpeg("red")), ["Photo 1 of 3 added."]),
            (Picture(jpeg("blue")), ["Photo 2 of 3 added."]),
            (Press("photos:done"), ["Where is the problem?"]),
            (
                CENTRE,
                ["Please check your report", "Road damage and potholes", "Photos: 2", "42.96650"],
            ),
            (Press("sum:confirm"), ["VLA-2026-00001"]),
            (Press("menu:mine"), ["You have 1 report.", "VLA-2026-00001"]),
        ],
    )
    listing = (await bot.say("ana", Press("menu:mine")))[0]
    details = await bot.say("ana", Press(listing.buttons[0][0].data))
    assert "Deep pothole" in details[0].text
    assert "Report received" in details[0].text
    stored = await reports.get_report(bot.app.db.conn, 1)
    assert stored is not None
    assert stored.ref == "VLA-2026-00001"
    assert stored.service == bot.app.deps.municipality.service_for("road_damage").id
    assert stored.status == "new"
    assert len(stored.photo_paths) == 2
    assert all((settings.data_dir / p).is_file() for p in stored.photo_paths)
    assert (stored.latitude, stored.longitude) == (42.9665, 22.1285)


async def test_a_typed_address_is_geocoded_and_confirmed(bot: Bot) -> None:
    await start_in_english(bot, "bob")
    await bot.play(
        "bob",
        [
            (Press("menu:report"), []),
            (Press("cat:street_lighting"), []),
            ("The street light has been dark for a week", ["Send up to 3 photos"]),
            (Press("photos:skip"), ["Where is the problem?"]),
            ("Near the school", ["Is this the place?", SCHOOL.address]),
            (Press("addr:no"), ["Where is the problem?"]),
            ("Near the school", ["Is this the place?"]),
            (Press("addr:yes"), ["Please check your report", SCHOOL.address, "Photos: 0"]),
            (Press("sum:confirm"), ["VLA-2026-00001"]),
        ],
    )


async def test_an_unknown_address_and_a_far_away_place_are_refused(bot: Bot) -> None:
    await start_in_english(bot, "cim")
    await bot.play(
        "cim",
        [
            (Press("menu:report"), []),
            (Press("cat:garbage"), []),
            ("Garbage has not been collected", []),
            (Press("photos:skip"), []),
            ("Nowhere street 99", ["I could not find that address"]),
            ("Belgrade, main square", ["km from Vlasotince, outside the municipality"]),
            (Pin(44.8125, 20.4612), ["km from Vlasotince"]),
            (Pin(0, 0), ["That location is not valid"]),
            (CENTRE, ["Please check your report"]),
        ],
    )


async def test_when_the_geocoder_is_down_the_typed_address_is_kept(bot: Bot, geocoder) -> None:  # type: ignore[no-untyped-def]
    geocoder.down = True
    await start_in_english(bot, "dan")
    await bot.play(
        "dan",
        [
            (Press("menu:report"), []),
            (Press("cat:water_sewage"), []),
            ("Water is leaking from the pipe", []),
            (Press("photos:skip"), []),
            ("Nemanjina 12", ["The map service is not available", "Location: Nemanjina 12"]),
            (Press("sum:confirm"), ["VLA-2026-00001"]),
        ],
    )
    stored = await reports.get_report(bot.app.db.conn, 1)
    assert stored is not None
    assert (stored.address, stored.latitude) == ("Nemanjina 12", None)


async def test_descriptions_too_short_or_too_long_are_asked_again(bot: Bot) -> None:
    await start_in_english(bot, "eva")
    await bot.play(
        "eva",
        [
            (Press("menu:report"), []),
            (Press("cat:other"), []),
            ("ok", ["between 3 and 4000 characters", "yours has 2"]),
            ("x" * 4001, ["yours has 4001"]),
            ("   ", ["yours has 0"]),
            ("A bench is broken", ["Send up to 3 photos"]),
        ],
    )


async def test_wrong_kinds_of_input_get_the_step_explained_and_keep_the_draft(bot: Bot) -> None:
    await start_in_english(bot, "fil")
    await bot.play(
        "fil",
        [
            (Press("menu:report"), []),
            (Press("cat:stray_animals"), []),
            (Unsupported(FIL, "sticker"), ["Please describe the problem in a text message."]),
            (Press("cat:garbage"), ["Please describe the problem in a text message."]),
            ("/frobnicate", ["I do not know the command /frobnicate.", "Describe the problem"]),
            (Press("menu:report"), ["You have a report in progress"]),
            ("/start", ["You have a report in progress", "Describe the problem"]),
            ("/help", ["This bot lets you report", "Describe the problem"]),
            ("A pack of dogs near the market", ["Send up to 3 photos"]),
            ("some text", ["Please send a photo"]),
            (Picture(b"not an image at all"), ["not a picture I can read"]),
            (Picture(None, size=11 * 1024 * 1024), ["larger than 10 MB"]),
            (Unsupported(FIL, "sticker"), ["Please send a photo"]),
            (Press("photos:skip"), ["Where is the problem?"]),
            (Press("sum:confirm"), ["Please share the location"]),
            (CENTRE, ["Please check your report", "Stray animals", "A pack of dogs"]),
        ],
    )


async def test_edit_changes_one_part_and_returns_to_the_summary(bot: Bot) -> None:
    await start_in_english(bot, "gus")
    await bot.play(
        "gus",
        [
            (Press("menu:report"), []),
            (Press("cat:green_areas"), []),
            ("A tree fell on the path", []),
            (Press("photos:skip"), []),
            (CENTRE, ["Green areas and trees"]),
            (Press("sum:edit"), ["What would you like to change?"]),
            (Press("edit:category"), ["What kind of problem is it?"]),
            (Press("cat:traffic_signs"), ["Please check your report", "Traffic signs and signals"]),
            (Press("sum:edit"), []),
            (Press("edit:description"), ["Describe the problem"]),
            ("A tree fell on the stop sign", ["Please check your report", "stop sign"]),
            (Press("sum:edit"), []),
            (Press("edit:photos"), ["Send up to 3 photos"]),
            (Picture(jpeg()), ["Photo 1 of 3 added."]),
            (Press("photos:done"), ["Please check your report", "Photos: 1"]),
            (Press("sum:cancel"), ["The report was cancelled."]),
            (Press("menu:mine"), ["You have not reported anything yet."]),
        ],
    )


async def test_cancel_drops_the_draft_from_anywhere(bot: Bot) -> None:
    await start_in_english(bot, "hana")
    await bot.play(
        "hana",
        [
            ("/cancel", ["There is nothing to cancel."]),
            (Press("menu:report"), []),
            (Press("cat:garbage"), []),
            ("/cancel", ["The report was cancelled.", "Report a problem"]),
            (Press("cat:garbage"), ["Please choose one of the options below."]),
        ],
    )


async def test_language_can_change_in_the_middle_of_a_report(bot: Bot) -> None:
    await start_in_english(bot, "ivan")
    await bot.play(
        "ivan",
        [
            (Press("menu:report"), []),
            (Press("cat:garbage"), []),
            ("/language", ["Choose your language and script:"]),
            (Press("lang:sr-Latn"), ["jezik", "Opišite problem"]),
            ("Kontejner je pun", ["fotografij"]),
            ("/language", []),
            (Press("lang:sr-Cyrl"), ["језик", "фотографиј"]),
        ],
    )


async def test_a_made_up_button_is_checked_like_text(bot: Bot) -> None:
    await start_in_english(bot, "jan")
    await bot.play(
        "jan",
        [
            (Press("lang:xx"), ["Please choose one of the options below."]),
            (Press("menu:report"), []),
            (Press("cat:nuclear_waste"), ["Please choose the kind of problem"]),
            # A report's button from an old list does not drop the draft.
            (Press("rep:1"), ["You have a report in progress", "What kind of problem is it?"]),
            (Press("rep:x"), ["Please choose the kind of problem"]),
            (Press("cat"), ["Please choose the kind of problem"]),
        ],
    )


async def test_a_resident_cannot_see_another_residents_report(bot: Bot) -> None:
    await start_in_english(bot, "kim")
    items: list[DialogInput] = [
        Press("menu:report"),
        Press("cat:other"),
        "Broken bench",
        Press("photos:skip"),
        CENTRE,
        Press("sum:confirm"),
    ]
    for item in items:
        await bot.say("kim", item)
    await start_in_english(bot, "lea")
    await bot.say("lea", Press("menu:mine"))
    replies = await bot.say("lea", Press("rep:1"))
    assert "not found among yours" in replies[0].text


async def test_more_than_five_reports_in_an_hour_are_refused(bot: Bot) -> None:
    await start_in_english(bot, "max")
    for _ in range(5):
        assert "What kind of problem" in (await bot.say("max", Press("menu:report")))[0].text
        await bot.say("max", "/cancel")
    refused = await bot.say("max", Press("menu:report"))
    assert "Please wait" in refused[0].text
    bot.clock.advance(hours=1, seconds=1)
    assert "What kind of problem" in (await bot.say("max", Press("menu:report")))[0].text


async def test_the_same_update_delivered_twice_is_handled_once(bot: Bot) -> None:
    from handlers.events import Command

    event = Command(bot.sender("ned"), "start", update_id="77")
    await bot.app.dispatcher.dispatch(event)
    await bot.app.dispatcher.dispatch(event)
    await bot.app.sender.drain()
    assert len(bot.channel.to("ned")) == 1


async def test_serbian_latin_is_derived_from_cyrillic(bot: Bot) -> None:
    await bot.say("olja", "/start")
    replies = await bot.say("olja", Press("lang:sr-Latn"))
    text = "\n".join(r.text for r in replies)
    assert "Vlasotince" in text
    assert not any("\u0400" <= ch <= "\u04ff" for ch in text), text


async def test_photos_are_stored_without_exif(bot: Bot, settings) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    image = Image.new("RGB", (40, 30), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (42.0, 58.0, 0.0)}  # GPS
    raw = io.BytesIO()
    image.save(raw, format="JPEG", exif=exif)
    assert b"PhoneMaker" in raw.getvalue()
    await start_in_english(bot, "pia")
    items: list[DialogInput] = [Press("menu:report"), Press("cat:other"), "Broken bench"]
    for item in [*items, Picture(raw.getvalue())]:
        await bot.say("pia", item)
    photos = await asyncio.to_thread(lambda: list(Path(settings.data_dir, "photos").rglob("*.jpg")))
    assert len(photos) == 1
    stored = photos[0].read_bytes()
    assert b"PhoneMaker" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


async def test_first_contact_asks_for_the_language_in_every_offered_language(bot: Bot) -> None:
    replies = await bot.say("rada", "hello")
    assert "Изаберите језик" in replies[0].text
    assert "Choose your language" in replies[0].text
    labels = [b.label for row in replies[0].buttons for b in row]
    assert labels == ["Српски (ћирилица)", "Srpski (latinica)", "English"]


async def test_a_quick_report_keeps_the_caption_the_album_and_the_place(bot: Bot) -> None:
    await start_in_english(bot, "ana")
    caption = "Bins behind the school are full"
    await bot.play(
        "ana",
        [
            (Picture(jpeg("red"), caption=f"  {caption} "), ["Photo 1 of 3 added."]),
            (Picture(jpeg("blue"), caption="ok"), ["Photo 2 of 3 added."]),
            (Press("cat:garbage"), ["Where is the problem?"]),
            (CENTRE, ["Please check your report", f"Description: {caption}", "Photos: 2"]),
            (Press("sum:confirm"), ["VLA-2026-00001"]),
        ],
    )
    stored = await reports.get_report(bot.app.db.conn, 1)
    assert stored is not None
    assert (stored.category, stored.description) == ("garbage", caption)
    assert len(stored.photo_paths) == 2
    assert (stored.latitude, stored.longitude) == (42.9665, 22.1285)


async def test_a_caption_too_short_is_no_description(bot: Bot) -> None:
    await start_in_english(bot, "ana")
    await bot.play(
        "ana",
        [
            (Picture(jpeg("red"), caption="ok"), ["Photo 1 of 3 added."]),
            (Press("cat:garbage"), ["Describe the problem"]),
            (Picture(jpeg("blue"), caption="Overflowing bins"), ["Photo 2 of 3 added."]),
            (CENTRE, ["Please check your report", "Description: Overflowing bins"]),
        ],
    )


async def test_a_far_away_place_from_the_menu_starts_no_report(bot: Bot) -> None:
    await start_in_english(bot, "ana")
    far = await bot.say("ana", Pin(44.8125, 20.4612))
    assert "outside the municipality" in far[0].text
    assert far[0].buttons[0][0].data == "menu:report"
    hint = await bot.say("ana", "hello")
    assert hint[0].text == "Please choose one of the options below."


async def test_a_quick_report_counts_towards_the_hourly_limit(bot: Bot) -> None:
    await start_in_english(bot, "max")
    for _ in range(5):
        assert "What kind of problem" in (await bot.say("max", CENTRE))[1].text
        await bot.say("max", "/cancel")
    refused = await bot.say("max", Picture(jpeg()))
    assert "Please wait" in refused[0].text
    assert await reports.get_report(bot.app.db.conn, 1) is None


async def test_a_photo_in_an_awaited_answer_or_a_kept_step_starts_nothing(bot: Bot) -> None:
    await start_in_english(bot, "ana")
    await bot.play(
        "ana",
        [
            (Press("menu:report"), []),
            (Press("cat:garbage"), []),
            ("Bins behind the school are full", []),
            (Press("photos:skip"), []),
            (CENTRE, ["Please check your report"]),
            (Press("sum:edit"), ["What would you like to change?"]),
            (Picture(jpeg()), ["Please choose what you want to change with the buttons."]),
            ("/language", ["Choose your language"]),
            (Picture(jpeg()), ["Please choose a language with one of the buttons."]),
        ],
    )
