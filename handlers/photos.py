"""Saving a photo that a user sent: slow work done before the transaction, for any flow."""

from __future__ import annotations

import asyncio

from handlers.context import Deps, Lookup
from handlers.events import Inbound, Photo
from handlers.i18n import Translator
from storage.photos import ImageTooLargeError, InvalidImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 3  # of a report, and of a comment sent as an album


def unusable_photo(t: Translator, lookup: Lookup) -> str:
    """Why a photo that was not saved cannot be used."""
    if lookup.outcome == "too_large":
        return t.gettext("That file is larger than 10 MB. Please send a smaller photo.")
    return t.gettext("That file is not a picture I can read. Please send a photo (JPEG or PNG).")


async def save_photo(deps: Deps, event: Inbound) -> Lookup | None:
    """Store the photo without its metadata; the outcome says why when it was refused."""
    if not isinstance(event, Photo):
        return None
    if event.content is None:
        return Lookup("too_large" if event.size > MAX_PHOTO_BYTES else "invalid")
    try:
        stored = await asyncio.to_thread(deps.photos.save, event.content)
    except ImageTooLargeError:
        return Lookup("too_large")
    except InvalidImageError:
        return Lookup("invalid")
    return Lookup("saved", {"path": stored.path, "sha256": stored.sha256})
