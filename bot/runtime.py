"""The long-running bot: messenger channels, the outbox sender and the web server in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot import web as public_web
from bot.app import App, build_app
from bot.channels.email import EmailChannel, SmtpSettings
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel, TelegramUpdates, make_bot
from bot.channels.viber import ViberAccount, ViberChannel, ViberSetupError, ViberUpdates
from bot.health import Health, healthz_route
from bot.metrics import Metrics, metrics_route
from bot.outbox import SendLimits
from bot.scheduler import make_scheduler
from bot.settings import Settings, webhook_path
from handlers.municipality import Municipality
from handlers.ports import Channel
from handlers.registry import REGISTRY
from handlers.staff.menus import staff_menus

log = logging.getLogger(__name__)
EMAIL_RATE = 5.0  # messages/s; a municipal mail server need not be hurried
# Half-sent requests must not hold connections for ever. aiohttp has no read timeout of its
# own: its keep-alive timeout closes a connection that has not sent a whole request head
# (it counts from the connection's start), and the body is read under a timeout of ours.
HEAD_TIMEOUT_S = 15.0
BODY_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0  # how long the requests in progress may take when the bot stops
MAX_BODY_BYTES = 2 * 1024 * 1024  # an update or a Viber callback is a few kilobytes


def body_in_time(seconds: float) -> Middleware:
    """A middleware that reads a request's body within ``seconds``, or answers 408 and closes."""

    @web.middleware
    async def read_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()  # kept by the request: the handler reads it again
            except TimeoutError:
                log.warning("request body not received within %s s; connection closed", seconds)
                # Raised, not returned: the Open311 API's middleware (outside this one) answers
                # it in the API's error form; elsewhere aiohttp sends these words.
                late = web.HTTPRequestTimeout(
                    text=f"The request's body did not arrive within {seconds:g} s;"
                    " the connection is closed."
                )
                late.force_close()
                raise late from None
        return await handler(request)

    return read_body


def web_app(
    health: Health | None = None, *, body_timeout: float = BODY_TIMEOUT_S
) -> web.Application:
    """The web server's routes that every mode has (/healthz checks ``health`` when given)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[body_in_time(body_timeout)])

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    if health is not None:
        app.router.add_routes([healthz_route(health)])
    else:
        app.router.add_get("/healthz", healthz)
    return app


@dataclass(slots=True)
class Messengers:
    """The channels this process runs (one or both) and what receives their updates."""

    telegram: TelegramChannel | None = None
    viber: ViberChannel | None = None
    email: EmailChannel | None = None
    telegram_updates: TelegramUpdates | None = None
    viber_updates: ViberUpdates | None = None

    @property
    def channels(self) -> dict[str, Channel]:
        """The channels by name, for the outbox sender."""
        found: list[Channel] = [c for c in (self.telegram, self.viber, self.email) if c is not None]
        return {c.name: c for c in found}


async def run_messengers(
    settings: Settings, municipality: Municipality, *, stop: asyncio.Event | None = None
) -> int:
    """Run Telegram, Viber or both until SIGTERM or SIGINT (or until ``stop`` is set)."""
    if not settings.has_messenger:
        raise ValueError("no messenger token is set")
    if stop is None:
        stop = _stop_on_signals()
    messengers = await open_messengers(settings)
    limits = SendLimits(
        {"telegram": settings.telegram_rate, "viber": settings.viber_rate, "email": EMAIL_RATE}
    )
    metrics = Metrics()
    channels = metrics.timed(messengers.channels)
    try:
        async with build_app(settings, municipality, channels, limits=limits) as app:
            return await _run(settings, municipality, app, messengers, stop, metrics)
    except ViberSetupError as e:
        log.error("%s", e)  # noqa: TRY400 - the message says it all; no traceback
        return 1
    finally:
        if messengers.telegram is not None:
            await messengers.telegram.bot.shutdown()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def open_messengers(settings: Settings) -> Messengers:
    """Build the channels whose tokens are set."""
    messengers = Messengers()
    if settings.telegram_token:
        bot = make_bot(
            settings.telegram_token, settings.telegram_api_url, settings.telegram_file_url
        )
        await bot.initialize()
        messengers.telegram = TelegramChannel(bot, settings.data_dir)
    if settings.viber_token and settings.viber_webhook_url:
        account = ViberAccount(
            token=settings.viber_token,
            webhook_url=settings.viber_webhook_url,
            name=settings.viber_bot_name,
            avatar=settings.viber_avatar_url,
            api_url=settings.viber_api_url,
        )
        messengers.viber = ViberChannel(account, settings.data_dir)
    if settings.smtp_host:
        smtp = SmtpSettings(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
            settings.smtp_password, settings.smtp_starttls,
        )  # fmt: skip
        messengers.email = EmailChannel(smtp, settings.data_dir)
    return messengers


async def _run(
    settings: Settings,
    municipality: Municipality,
    app: App,
    messengers: Messengers,
    stop: asyncio.Event,
    metrics: Metrics,
) -> int:
    """Serve the webhooks, start the channels, and wait for ``stop``."""
    health = Health(settings.database, list(messengers.channels), settings.health_outbox_max_age)
    routes = add_routes(web_app(health), settings, app, messengers)
    if settings.metrics_on:
        metrics.watch_database(settings.database)
        metrics.watch_dispatcher(app.dispatcher.handled, app.dispatcher.failed)
        routes.router.add_routes([metrics_route(metrics, settings.metrics_token)])
    public_web.add_routes(routes, settings, app)
    runner = await serve(routes, settings)
    tasks = [asyncio.create_task(app.sender.run(), name="outbox")]
    scheduler = make_scheduler(app.db, app.deps, app.sender)
    public_web.schedule(scheduler, settings, app)
    metrics.watch_scheduler(scheduler)
    try:
        scheduler.start()
        if messengers.telegram is not None and messengers.telegram_updates is not None:
            await start_telegram(settings, app, messengers.telegram)
            if not settings.telegram_webhook_url:
                poll = messengers.telegram_updates.poll(stop)
                tasks.append(asyncio.create_task(poll, name="telegram-poll"))
        if messengers.viber is not None:
            # Only now: Viber calls the webhook back while set_webhook is in flight.
            await messengers.viber.check_account()
            await messengers.viber.set_webhook()
        log.info("bot running: %s", ", ".join(messengers.channels))
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await shutdown(app, tasks, runner)
        if messengers.viber_updates is not None:
            await messengers.viber_updates.close()
    return 0


def add_routes(
    routes: web.Application, settings: Settings, app: App, messengers: Messengers
) -> web.Application:
    """Add each channel's webhook to the one web server."""
    dispatch = app.dispatcher.dispatch
    if messengers.telegram is not None:
        messengers.telegram_updates = TelegramUpdates(messengers.telegram.bot, dispatch)
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret or ""
            route = messengers.telegram_updates.webhook_route(secret)
            routes.router.add_post(webhook_path(settings.telegram_webhook_url), route)
    if messengers.viber is not None:
        messengers.viber_updates = ViberUpdates(messengers.viber, dispatch)
        messengers.viber_updates.add_routes(routes.router)
    return routes


async def start_telegram(settings: Settings, app: App, telegram: TelegramChannel) -> None:
    """Register the commands (the staff's private chats' own too), and the webhook if any."""
    municipality = app.deps.municipality
    await telegram.register_commands(municipality.languages, REGISTRY)
    await telegram.set_menus(
        await staff_menus(app.db.reader, municipality, REGISTRY, telegram.name)
    )
    if settings.telegram_webhook_url:
        await telegram.bot.set_webhook(
            settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )


async def serve(
    routes: web.Application, settings: Settings, *, head_timeout: float = HEAD_TIMEOUT_S
) -> web.AppRunner:
    """Start the web server (the webhooks and /healthz).

    A reverse proxy in front (see the README) buffers requests too; these limits keep the bot
    safe without one.
    """
    runner = web.AppRunner(
        routes,
        access_log=None,
        keepalive_timeout=head_timeout,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        # A body left unread (a 408, a refused call) is not waited for: the connection closes.
        lingering_time=0,
    )
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
    # Not asyncio.wait_for: on Python 3.11 a cancellation that lands as the drain ends is
    # swallowed, and the shutdown would go on as if nobody had stopped it.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
            await app.sender.drain()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # A drain cut short leaves delivered rows unmarked: marked now, not "interrupted" at the start.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
            await app.sender.close()
