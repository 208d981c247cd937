"""Logging set-up: quiet HTTP client logs and the bot token kept out of every log line.

Redaction happens where log records are made (a record factory), so it covers
every logger and every handler, including ones added later.
"""

from __future__ import annotations

import logging


def redactor(secrets: list[str]):
    """A function replacing each secret (6+ characters) in a string with ``<redacted>``."""
    secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

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


def setup_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """Configure the root logger; httpx (which logs URLs containing the token) only logs warnings."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if secrets:
        install_redaction(secrets)
