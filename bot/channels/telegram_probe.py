"""Ask the Bot API who the bot is (``getMe``), for ``moja-opstina check``."""

from __future__ import annotations

from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.channels.telegram import make_bot


class ProbeError(Exception):
    """The Bot API could not be asked, or refused; the message says what to fix."""


async def telegram_identity(token: str, api_url: str, file_url: str) -> str:
    """The bot's @username.

    Raises:
        ProbeError: the token is refused or the server cannot be reached. The message never
            holds the error's own text: PTB's names the token.
    """
    host = urlsplit(api_url).netloc
    bot = make_bot(token, api_url, file_url)
    try:
        async with bot:  # initialize() calls getMe
            return f"@{bot.username}"
    except InvalidToken:
        raise ProbeError(f"{host} refused the token: check TELEGRAM_TOKEN") from None
    except NetworkError as e:
        raise ProbeError(
            f"cannot reach {host} ({type(e).__name__}): check TELEGRAM_API_URL"
        ) from None
    except TelegramError as e:
        raise ProbeError(f"{host} answered {type(e).__name__}") from None
