"""Saving a photo that a user sent: slow work done before the transaction, for any flow."""

from __future__ import annotations

import asyncio

from handlers.context import Deps, Lookup
from handlers.events import Inbound, Photo
from storage.photos import ImageTooLargeError, InvalidImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024


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
