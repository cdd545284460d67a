"""Voice notes on disk under the data folder, by content hash, their tags removed.

A voice note is stored as it came (it is not re-encoded), once mutagen has read its container
and its length: a file the messengers would not play as a voice note (OGG with Opus or Vorbis,
MP3, MP4/M4A audio), an empty one, a silent one of no length, a huge or a long one is refused.
The length is the file's own, never the messenger's word for it. The tags (a title, an artist,
the recording app's notes) are removed like the photos' EXIF.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.photos import write_atomically

FOLDER = "voice"  # under the data folder, beside photos/
MAX_VOICE_BYTES = 5 * 1024 * 1024
MAX_VOICE_SECONDS = 300
MIN_VOICE_SECONDS = 0.5


@functools.cache
def _suffixes() -> dict[type[Any], str]:
    """The containers every channel can play as a voice note, and the suffix each is stored
    under. mutagen is imported with the first voice note, not at every start of the bot."""
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    return {OggOpus: "ogg", OggVorbis: "ogg", MP3: "mp3", MP4: "m4a"}


class VoiceError(Exception):
    """A voice note that is not stored; the subclass says why."""


class EmptyVoiceError(VoiceError):
    """No bytes, or no sound (a length under half a second)."""


class VoiceTooLargeError(VoiceError):
    """More bytes than ``MAX_VOICE_BYTES``."""


class VoiceTooLongError(VoiceError):
    """Longer than ``MAX_VOICE_SECONDS``."""


class InvalidVoiceError(VoiceError):
    """Not an audio file of a kind we store (or a broken one)."""


@dataclass(frozen=True, slots=True)
class StoredVoice:
    """A voice note saved on disk; ``path`` is relative to the data folder."""

    path: str
    sha256: str
    seconds: int


class VoiceStore:
    """Saves residents' (and staff's) voice notes under ``data_dir/voice``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def save(self, content: bytes) -> StoredVoice:
        """Check the voice note, remove its tags and store it; the same note once.

        Raises:
            EmptyVoiceError, VoiceTooLargeError, VoiceTooLongError, InvalidVoiceError.
        """
        if not content:
            raise EmptyVoiceError
        if len(content) > MAX_VOICE_BYTES:
            raise VoiceTooLargeError
        clean, suffix, seconds = clean_voice(content)
        digest = hashlib.sha256(clean).hexdigest()
        relative = Path(FOLDER) / digest[:2] / f"{digest}.{suffix}"
        target = self.data_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, clean)
        else:  # saved again: young again for the sweep of unused notes
            target.touch()
        return StoredVoice(relative.as_posix(), digest, seconds)


def saved_before(data_dir: Path, moment: datetime) -> list[str]:
    """The voice notes last saved before ``moment``, as paths relative to the data folder."""
    root, limit = data_dir / FOLDER, moment.timestamp()
    return sorted(
        p.relative_to(data_dir).as_posix()
        for p in root.glob("*/*")
        if p.is_file() and p.stat().st_mtime < limit
    )


def clean_voice(content: bytes) -> tuple[bytes, str, int]:
    """The voice note without its tags, the suffix of its kind, and its length in seconds.

    Raises:
        EmptyVoiceError, VoiceTooLongError, InvalidVoiceError.
    """
    import mutagen  # here: only a voice note needs it (see _suffixes)

    buffer = io.BytesIO(content)
    try:
        audio = mutagen.File(buffer)
        suffix = _suffixes().get(type(audio)) if audio is not None else None
        if audio is None or suffix is None:
            raise InvalidVoiceError
        length = float(audio.info.length)
        buffer.seek(0)
        audio.delete(buffer)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as e:
        raise InvalidVoiceError from e
    if length < MIN_VOICE_SECONDS:
        raise EmptyVoiceError
    if length > MAX_VOICE_SECONDS:
        raise VoiceTooLongError
    return buffer.getvalue(), suffix, round(length)
