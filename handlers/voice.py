"""Voice notes: saving one before the transaction (for any flow), and what is said about one."""

from __future__ import annotations

import asyncio

from handlers.context import Context, Deps, Lookup
from handlers.events import Inbound, Voice
from handlers.i18n import Translator
from storage.voices import (
    MAX_VOICE_BYTES,
    MAX_VOICE_SECONDS,
    EmptyVoiceError,
    VoiceTooLargeError,
    VoiceTooLongError,
)
from storage.voices import VoiceError as VoiceError

MARK = "🎤"


async def save_voice(deps: Deps, event: Inbound) -> Lookup | None:
    """Store the voice note; the outcome says why when it was refused."""
    if not isinstance(event, Voice):
        return None
    if event.content is None:
        too_large = event.size > MAX_VOICE_BYTES
        return Lookup("too_large" if too_large else "invalid")
    if event.seconds > MAX_VOICE_SECONDS:
        return Lookup("too_long")  # the messenger says so: not downloaded in vain
    try:
        stored = await asyncio.to_thread(deps.voices.save, event.content)
    except EmptyVoiceError:
        return Lookup("empty")
    except VoiceTooLargeError:
        return Lookup("too_large")
    except VoiceTooLongError:
        return Lookup("too_long")
    except VoiceError:
        return Lookup("invalid")
    return Lookup("saved", {"path": stored.path, "seconds": stored.seconds})


def saved_voice(ctx: Context) -> str | None:
    """The path of the voice note saved before the transaction, if it was saved."""
    if ctx.lookup is not None and ctx.lookup.outcome == "saved" and "seconds" in ctx.lookup.data:
        return str(ctx.lookup.data["path"])
    return None


def refusal(ctx: Context) -> str:
    """Why the voice note was not taken, in the user's language."""
    _ = ctx.t.gettext
    outcome = ctx.lookup.outcome if ctx.lookup else "invalid"
    if outcome == "too_large":
        megabytes = MAX_VOICE_BYTES // (1024 * 1024)
        return _(
            "That voice message is larger than {n} MB. Please send a shorter one.", n=megabytes
        )
    if outcome == "too_long":
        minutes = MAX_VOICE_SECONDS // 60
        return _("That voice message is longer than {n} minutes. Please send a shorter one.",
                 n=minutes)  # fmt: skip
    if outcome == "empty":
        return _("That voice message is empty. Please record it again.")
    return _(
        "I could not play that voice message (it may be broken). Please record it again, or"
        " write the text."
    )


def voice_line(t: Translator) -> str:
    """The short line that says a voice note is attached (on a card, an e-mail, a history)."""
    return MARK + " " + t.gettext("A voice message is attached.")
