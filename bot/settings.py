"""The bot's settings: the engine's (``index.settings``) and the Telegram side's, read from the environment and ``.env``.

The environment names and defaults are the ones listed in ``.env.example``; ``python -m bot`` reads
this class, ``python -m index`` only the engine's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from index.settings import EngineSettings, SettingsError, load_settings

__all__ = ["LOG_LEVELS", "Settings", "SettingsError", "load_bot_settings"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(EngineSettings):
    """Every setting of the product: the engine's, and the bot's below."""

    telegram_bot_token: SecretStr | None = Field(None, description="From @BotFather.")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", description="Bot API base URL.")
    telegram_api_file_url: str | None = Field(None, description="Bot API file URL (default: derived from the base URL).")
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, description="Comma-separated user ids.")
    webhook_url: str | None = Field(None, description="Public HTTPS URL; when set the bot uses a webhook.")
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds to.")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server listens on.")
    webhook_secret: SecretStr | None = Field(None, description="Secret token Telegram must send (required for webhooks).")
    rate_limit_per_minute: int = Field(10, ge=0, description="Questions per user per minute (0 = no limit).")
    telegram_max_rate: float = Field(
        30, ge=0, description="Messages per second the bot sends overall (Telegram's limit; 0 = no limit)."
    )
    telegram_network_retries: int = Field(
        5,
        ge=0,
        le=20,
        description="Retries of a Bot API call that failed on the network or with a server error (waits 0.5 s, doubling, at most 5 s).",
    )
    max_upload_mb: float = Field(5, gt=0, description="Largest article file admins may upload.")
    search_workers: int = Field(
        1, ge=1, description="Threads that run searches off the event loop (1: the built-in model's search is mostly Python)."
    )
    feed_refresh_minutes: float = Field(30, ge=0, description="The bot fetches FEEDS this often (0 = never).")
    index_watch_seconds: float = Field(
        30, ge=0, description="How often the bot looks for a build made outside it (`python -m index update`); 0 = never."
    )
    index_lock_wait_seconds: float = Field(
        900,
        ge=0,
        description="How long the bot's updates (uploads, /reindex, channel posts) wait for a build run from the command "
        "line to finish before giving up and telling the admin.",
    )
    index_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated channel ids (-100…) or @usernames whose posts the bot indexes (it must be a channel admin).",
    )
    followup_minutes: float = Field(
        10,
        ge=0,
        description="A question may follow up the previous one in its chat for this long; after it (or /new) a "
        "question stands alone (0 = never follow up).",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return [int(p) for p in parts if p]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("index_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str | int):
            return [part for part in str(value).replace(",", " ").split() if part]
        return value

    @field_validator("index_channels")
    @classmethod
    def _channel_ids_or_names(cls, value: list[str]) -> list[str]:
        import re

        out = []
        for item in value:
            item = str(item).strip()
            if re.fullmatch(r"-?\d{5,20}", item):
                out.append(item)
            elif re.fullmatch(r"@?[A-Za-z][A-Za-z0-9_]{3,31}", item):
                out.append("@" + item.lstrip("@").lower())
            else:
                raise ValueError(f"not a channel id or @username: {item!r}")
        return out

    @field_validator("telegram_api_file_url", "webhook_url", "telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _empty_bot_value_is_none(cls, value: object) -> object:  # its own name: the engine's validator stays in force
        return None if value == "" else value

    @field_validator("telegram_bot_token", "webhook_secret", mode="after")
    @classmethod
    def _no_stray_whitespace(cls, value: SecretStr | None) -> SecretStr | None:
        """A trailing newline is a common paste slip: the value without it is the one used everywhere."""
        if value is None:
            return None
        stripped = value.get_secret_value().strip()
        return SecretStr(stripped) if stripped else None

    @field_validator("index_watch_seconds")
    @classmethod
    def _never_or_at_least_a_second(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("use 0 (never) or at least 1 second")
        return value

    @field_validator("log_level")
    @classmethod
    def _a_logging_level(cls, value: str) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"choose one of {', '.join(LOG_LEVELS)}")
        return level


def load_bot_settings() -> Settings:
    """``Settings()``, with invalid values reported one line each (``SettingsError``)."""
    return load_settings(Settings)
