"""Logging set-up: quiet library logs and the bot token kept out of every log line.

Redaction happens where log records are made (a record factory), so it covers
every logger and every handler, including ones added later.
"""

from __future__ import annotations

import logging


def redactor(secrets: list[str]):
    """A function replacing each secret (of any length, surrounding whitespace aside) in a string with ``<redacted>``."""
    secrets = sorted({s.strip() for s in secrets if s and s.strip()}, key=len, reverse=True)

    def clean(value: str) -> str:
        for secret in secrets:
            value = value.replace(secret, "<redacted>")
        return value

    return clean


def install_redaction(secrets: list[str]) -> None:
    """Make every future log record carry its message (and traceback) with secrets removed."""
    clean = redactor(secrets)
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg = clean(record.getMessage())
            record.args = None
        except Exception:  # a broken format string: leave the record as it is
            return record
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return record

    logging.setLogRecordFactory(factory)


def drop_startup_abort(record: logging.LogRecord) -> bool:
    """False for python-telegram-bot's "Network Retry Loop ... Aborting." record and its traceback:
    ``python -m bot`` says in one line why it could not start."""
    message = record.getMessage()
    return not (message.startswith("Network Retry Loop") and "Aborting" in message)


def setup_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """Configure the root logger; quiet libraries that log too much or look alarming.

    httpx logs URLs containing the token; faiss's loader logs each CPU variant it tries at
    INFO, with a ``ModuleNotFoundError`` that reads like an error but is not one.
    """
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "faiss.loader", "tornado.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ptb = logging.getLogger("telegram.ext")
    if drop_startup_abort not in ptb.filters:
        ptb.addFilter(drop_startup_abort)
    if secrets:
        install_redaction(secrets)
