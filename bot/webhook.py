"""Webhook mode: Telegram's updates posted to the bot, checked before they are read.

python-telegram-bot's built-in webhook server reads a whole request body (up to
100 MB) before it looks at the secret token, and answers a body that is not JSON
with a 500 and a traceback. Updates are kilobytes, so this server, following the
library's custom-webhook example, checks the secret as soon as the headers are in,
refuses bodies over ``MAX_UPDATE_BYTES`` while they stream in, answers 400 to
anything that is not an update, and puts updates on the application's queue.
Tornado is the server python-telegram-bot's webhook extra already installs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Sequence

from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import HTTPError, RequestHandler, stream_request_body

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1024 * 1024  # Telegram's updates are a few kilobytes; anything near this is not one
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@stream_request_body
class UpdateHandler(RequestHandler):
    """POST <path>: one update, JSON, with the secret token header. Nothing else is read."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: Application, secret: str, stats: dict[str, int]) -> None:
        self.app = app
        self.secret = secret
        self.stats = stats  # bytes of bodies read, per outcome (tests count them)
        self.body = bytearray()

    def prepare(self) -> None:
        """Before any of the body is read: the secret, then the declared size."""
        sent = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(sent.encode(), self.secret.encode()):
            raise HTTPError(403)
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_UPDATE_BYTES:
            raise HTTPError(413)

    def data_received(self, chunk: bytes) -> None:
        self.stats["read"] = self.stats.get("read", 0) + len(chunk)
        self.body += chunk
        if len(self.body) > MAX_UPDATE_BYTES:  # a chunked body that grows past the cap
            raise HTTPError(413)

    async def post(self) -> None:
        try:
            data = json.loads(bytes(self.body))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # bad JSON, or JSON of another shape than an update: the sender's fault, not ours
            log.info("webhook: not an update (%s)", type(exc).__name__)
            raise HTTPError(400) from None
        await self.app.update_queue.put(update)
        self.set_status(200)

    def write_error(self, status_code: int, **kwargs: object) -> None:
        """A short plain answer, never a traceback."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")

    def log_exception(self, typ, value, tb) -> None:  # refused requests are not errors of the bot
        if isinstance(value, HTTPError):
            log.debug("webhook: %s", value)
        else:
            super().log_exception(typ, value, tb)


def make_server(app: Application, url_path: str, secret: str, stats: dict[str, int] | None = None) -> HTTPServer:
    """The HTTP server taking updates at ``/url_path`` (not yet listening)."""
    routes = [(f"/{url_path.strip('/')}", UpdateHandler, {"app": app, "secret": secret, "stats": {} if stats is None else stats})]
    web = WebApplication(routes, default_handler_class=_NotFound)
    # also a cap tornado applies itself, before any handler, to what it will read of a body
    return HTTPServer(web, max_body_size=MAX_UPDATE_BYTES, xheaders=True)


class _NotFound(RequestHandler):
    def prepare(self) -> None:
        raise HTTPError(404)

    def write_error(self, status_code: int, **kwargs: object) -> None:
        self.finish(f"{status_code}\n")


async def run_webhook(
    app: Application,
    *,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret_token: str,
    allowed_updates: Sequence[str] | None = None,
    stop: asyncio.Event | None = None,
    stats: dict[str, int] | None = None,
) -> None:
    """Run the bot in webhook mode until SIGINT/SIGTERM (or ``stop``): register the webhook, serve, shut down cleanly.

    The application's hooks run as ``Application.run_webhook`` would run them.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not on every platform / thread
            loop.add_signal_handler(sig, stop.set)
    server = make_server(app, url_path, secret_token, stats)
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.bot.set_webhook(url=webhook_url, secret_token=secret_token, allowed_updates=allowed_updates)
        await app.start()
        server.listen(port, address=listen)
        log.info("webhook server listening on %s:%s", listen, port)
        try:
            await stop.wait()
        finally:
            server.stop()
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    if app.post_shutdown:
        await app.post_shutdown(app)
