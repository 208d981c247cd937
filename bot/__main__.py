"""Run the bot: ``python -m bot`` (long polling, or a webhook when WEBHOOK_URL is set),
or ``python -m bot --console`` to try answers in a terminal without Telegram."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError, load_bot_settings

from .logs import setup_logging

log = logging.getLogger("bot")
TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{6,}$")
MIN_SECRET = 16  # a webhook secret shorter than this can be guessed


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Telegram bot answering questions about the indexed news articles. "
        "Settings come from the environment or .env (see .env.example).",
    )
    parser.add_argument("--console", action="store_true", help="answer questions typed in the terminal (no Telegram needed)")
    parser.add_argument("--index", type=Path, help="index directory (default: INDEX_DIR)")
    return parser


def check_token(settings: Settings) -> str:
    """The token, or a clear error (never a traceback) when it is missing or malformed."""
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        raise SystemExit("error: TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather and put it in .env (see README).")
    if not TOKEN_RE.match(token):
        raise SystemExit(
            "error: TELEGRAM_BOT_TOKEN does not look like a bot token (expected digits:letters, as given by @BotFather)."
        )
    return token


def webhook_options(settings: Settings) -> dict | None:
    """Arguments for run_webhook when WEBHOOK_URL is set (the secret token is required)."""
    if not settings.webhook_url:
        return None
    if not settings.webhook_secret or not settings.webhook_secret.get_secret_value().strip():
        raise SystemExit("error: WEBHOOK_URL is set but WEBHOOK_SECRET is empty; a secret token is required in webhook mode.")
    secret = settings.webhook_secret.get_secret_value().strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
        raise SystemExit(
            f"error: WEBHOOK_SECRET must be {MIN_SECRET}-256 characters of A-Z, a-z, 0-9, _ and - (it is {len(secret)} "
            'characters long or holds others); make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
    }


def open_searcher(settings: Settings):
    from index.search.searcher import Searcher

    return Searcher.open(
        settings.index_dir, params=settings.search_params(), models=settings.answer_models(), store=settings.store_target()
    )


def serve(app, hook: dict | None, settings: Settings, secrets: list[str]) -> int:
    """Run until stopped. A Bot API that cannot be reached (after the retries) or refuses the token at start
    ends the bot with one line saying what to check, not tracebacks."""
    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    from .app import ALLOWED_UPDATES
    from .logs import redactor

    base = settings.telegram_api_base_url
    clean = redactor(secrets)
    try:
        if hook:
            import asyncio

            from .webhook import run_webhook

            log.info("starting in webhook mode on %s:%s", hook["listen"], hook["port"])
            asyncio.run(run_webhook(app, **hook, allowed_updates=ALLOWED_UPDATES))
        else:
            log.info("starting in long-polling mode")
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken as exc:
        print(
            f"error: the Bot API at {base} refused TELEGRAM_BOT_TOKEN ({clean(str(exc))}); "
            "check the token from @BotFather (and TELEGRAM_API_BASE_URL if you set it)",
            file=sys.stderr,
        )
        return 1
    except BadRequest as exc:  # a NetworkError in python-telegram-bot's classes, but a refusal, not a network fault
        return _refused(base, clean(str(exc)))
    except NetworkError as exc:
        print(
            f"error: cannot reach the Bot API at {base} ({clean(str(exc))}) after {settings.telegram_network_retries} "
            "retries; check the network, the proxy (HTTPS_PROXY) or TELEGRAM_API_BASE_URL",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:
        return _refused(base, clean(str(exc)))
    return 0


def _refused(base: str, reason: str) -> int:
    print(f"error: the Bot API at {base} refused to start the bot: {reason}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot``; Ctrl-C at any point ends it without a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args = make_parser().parse_args(argv)
    try:
        settings = load_bot_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.index:
        settings.index_dir = args.index
    secrets = [s.get_secret_value() for s in (settings.telegram_bot_token, settings.webhook_secret) if s]
    setup_logging(settings.log_level if not args.console else "WARNING", secrets)

    from index.answer.learned import ModelFileError
    from index.embedding.embedder import ModelLoadError
    from index.search.searcher import ModelMismatch
    from index.storage.store import IndexNotFound, StoreError

    if args.console:
        from .console import run_console

        try:
            searcher = open_searcher(settings)
        except (StoreError, ModelLoadError, ModelMismatch, ModelFileError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        reader = settings.reader()
        if reader is not None and reader.check():
            print(f"the language-model reader is off: {reader.problem}", file=sys.stderr)
        return run_console(
            searcher,
            settings.top_k,
            followup_minutes=settings.followup_minutes,
            reader=reader,
            articles_dir=settings.articles_dir,
        )

    check_token(settings)
    hook = webhook_options(settings)
    from .app import build_application
    from .service import QAService

    try:
        searcher = open_searcher(settings)
    except IndexNotFound as exc:
        log.warning("%s — the bot starts without an index; an admin can send /reindex", exc)
        searcher = None
    except (StoreError, ModelLoadError, ModelMismatch, ModelFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if searcher is not None:
        warn_if_built_elsewhere(settings, searcher.manifest.sources)
    app = build_application(settings, QAService(settings, searcher))
    return serve(app, hook, settings, secrets)


def warn_if_built_elsewhere(settings: Settings, sources: list[str]) -> None:
    """Say at start when the index was not built from ARTICLES_DIR: the bot's first update would then be refused."""
    from index.build import covers

    folder = settings.articles_dir.expanduser().resolve()
    elsewhere = [s for s in sources if not covers([folder], Path(s).expanduser().resolve())]
    if elsewhere:
        log.warning(
            "the index was built from %s, outside ARTICLES_DIR (%s): the bot's updates (/reindex, uploads, channel "
            "posts) would remove those articles and are refused until an admin confirms; build it with "
            "`python -m index build` (which reads ARTICLES_DIR) to avoid this",
            ", ".join(elsewhere),
            folder,
        )


if __name__ == "__main__":
    sys.exit(main())
