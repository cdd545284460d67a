"""The long-running bot: messenger channels, the outbox sender and the web server in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel, TelegramUpdates, make_bot
from bot.settings import Settings
from handlers.municipality import Municipality
from handlers.ports import Channel

log = logging.getLogger(__name__)


def web_app() -> web.Application:
    """The web server's routes that every mode has."""
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    return app


async def run_messengers(settings: Settings, municipality: Municipality) -> int:
    """Run the messenger channels until SIGTERM or SIGINT."""
    if not settings.telegram_token:
        raise ValueError("no messenger token is set")
    bot = make_bot(settings.telegram_token, settings.telegram_api_url, settings.telegram_file_url)
    await bot.initialize()
    telegram = TelegramChannel(bot, settings.data_dir, rate_per_s=settings.telegram_rate)
    channels: dict[str, Channel] = {"telegram": telegram}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with build_app(settings, municipality, channels) as app:
        updates = TelegramUpdates(bot, app.dispatcher.dispatch)
        routes = web_app()
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret or ""
            path = urlsplit(settings.telegram_webhook_url).path or "/"
            routes.router.add_post(path, updates.webhook_route(secret))
        runner = await serve(routes, settings)
        tasks = [asyncio.create_task(app.sender.run(), name="outbox")]
        try:
            await telegram.register_commands(municipality.languages)
            if settings.telegram_webhook_url:
                await bot.set_webhook(
                    settings.telegram_webhook_url,
                    secret_token=settings.telegram_webhook_secret,
                    allowed_updates=[
                        "message",
                        "edited_message",
                        "callback_query",
                        "my_chat_member",
                    ],
                )
            else:
                tasks.append(asyncio.create_task(updates.poll(stop), name="telegram-poll"))
            log.info("bot running (%s)", "webhook" if settings.telegram_webhook_url else "polling")
            await stop.wait()
        finally:
            await shutdown(app, tasks, runner)
            await bot.shutdown()
    return 0


async def serve(routes: web.Application, settings: Settings) -> web.AppRunner:
    """Start the web server (the webhook and /healthz)."""
    runner = web.AppRunner(routes, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("web server listening on %s:%s", settings.http_host, settings.http_port)
    return runner


async def shutdown(app: App, tasks: list[asyncio.Task[None]], runner: web.AppRunner) -> None:
    """Stop taking updates, let the outbox finish what is due, stop the rest."""
    await runner.cleanup()
    for task in tasks:
        if task.get_name() != "outbox":
            task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(app.sender.drain(), timeout=5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
