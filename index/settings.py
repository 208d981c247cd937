"""The product's one settings class, read from the environment and ``.env``.

Both packages read their configuration from here (the index side and the bot
side); command-line flags override individual values. Every field is listed,
with its default, in ``.env.example`` and in the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.embedding.embedder import BUILTIN_MODEL
from index.search.searcher import MODELS_DIR, AnswerModels, SearchParams
from index.storage.lexical import BM25_METHODS, LexicalParams
from index.storage.vectors import INDEX_TYPES
from index.text.arabic import STEMMERS
from index.text.chunking import ChunkParams

from .build import BuildConfig

if TYPE_CHECKING:
    from index.web.client import FetchConfig


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """All settings. Environment variable names are the field names in upper case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    # --- corpus and index
    index_dir: Path = Field(Path("var/index"), description="Directory holding the index builds.")
    articles_dir: Path = Field(Path("var/articles"), description="Where /reindex and uploads read and write articles.")
    embedding_model: str = Field(BUILTIN_MODEL, description="Built-in model, a sentence-transformers name or a local path.")
    query_prompt: str | None = Field(None, description="Prefix for questions (default: from the model, e.g. 'query: ' for e5).")
    passage_prompt: str | None = Field(None, description="Prefix for passages (default: from the model).")
    embedding_batch_size: int = Field(64, ge=1, description="Passages per encoder batch.")
    embedding_threads: int = Field(
        2, ge=1, description="CPU threads of the built-in encoder when building (searches use one each)."
    )
    chunk_target_words: int = Field(ChunkParams.target_words, ge=5)
    chunk_max_words: int = Field(ChunkParams.max_words, ge=5)
    chunk_min_words: int = Field(ChunkParams.min_words, ge=1)
    chunk_overlap_words: int = Field(ChunkParams.overlap_words, ge=0)
    stemmer: str = Field(LexicalParams.stemmer, description=" | ".join(STEMMERS))
    bm25_method: str = Field(LexicalParams.method, description=" | ".join(BM25_METHODS))
    bm25_k1: float = Field(LexicalParams.k1, gt=0)
    bm25_b: float = Field(LexicalParams.b, ge=0, le=1)
    index_titles: bool = Field(True, description="Give passages their article's title (BM25 terms and embedder context).")
    embed_max_words: int = Field(128, ge=0, description="Words of each passage the embedder sees (0 = all).")
    faiss_index: str = Field("auto", description=" | ".join(INDEX_TYPES))
    max_file_mb: float = Field(50, gt=0, description="Larger article files are skipped with a message.")
    max_article_chars: int = Field(1_000_000, ge=1000, description="Longer articles are truncated.")
    max_removed_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="An update that would remove more than this share of the index's articles is refused unless confirmed "
        "(--allow-removals; a button in the bot).",
    )

    # --- fetching from the web (python -m index fetch, the bot's /add and feed refresh)
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated feed, sitemap or page URLs fetched by default and on a schedule."
    )
    feed_refresh_minutes: float = Field(30, ge=0, description="The bot fetches FEEDS this often (0 = never).")
    allow_private_urls: bool = Field(
        False, description="Allow fetching URLs that resolve to loopback, private or link-local addresses (tests, intranets)."
    )
    fetch_contact: str = Field("", description="URL or e-mail put in the User-Agent so site owners can reach you.")
    fetch_timeout_seconds: float = Field(20, gt=0, description="Read timeout per request (connecting: at most 10 s).")
    fetch_delay_seconds: float = Field(0.25, ge=0, description="Pause between two requests on one connection to a host.")
    fetch_max_page_mb: float = Field(5, gt=0, description="Larger pages are cut off while downloading and skipped.")
    fetch_max_pages: int = Field(500, ge=1, description="Most article pages downloaded per run (newest first); the rest wait.")
    fetch_budget_seconds: float = Field(
        600, gt=0, description="Most seconds one fetch run may take; links not fetched by then wait for the next run."
    )

    # --- search
    top_k: int = Field(3, ge=1, le=20, description="Sources shown per answer.")
    dense_weight: float = Field(SearchParams.dense_weight, ge=0, le=1, description="Weight of the dense score in fusion.")
    search_candidates: int = Field(SearchParams.candidates, ge=10)
    min_confidence: float | None = Field(
        None, ge=0, le=1, description="Answer probability below which the reply is 'nothing found' (empty: the model's)."
    )
    sure_confidence: float | None = Field(
        None, ge=0, le=1, description="Below this the reply shows the closest passages, not an answer (empty: the model's)."
    )
    answer_models_dir: Path | None = Field(
        None, description="Directory of retrained answer_sentence.json / answerability.json (empty: the ones shipped)."
    )

    # --- bot
    telegram_bot_token: SecretStr | None = Field(None, description="From @BotFather.")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", description="Bot API base URL.")
    telegram_api_file_url: str | None = Field(None, description="Bot API file URL (default: derived from the base URL).")
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, description="Comma-separated user ids.")
    webhook_url: str | None = Field(None, description="Public HTTPS URL; when set the bot uses a webhook.")
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds to.")
    webhook_port: int = Field(8443, ge=1, le=65535)
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
    index_watch_seconds: float = Field(
        30, ge=0, description="How often the bot looks for a build made outside it (`python -m index update`); 0 = never."
    )
    index_lock_wait_seconds: float = Field(
        900,
        ge=0,
        description="How long the bot's updates (uploads, /reindex, channel posts) wait for a build run from the command "
        "line to finish before giving up and telling the admin.",
    )
    question_log: Path | None = Field(
        None, description="JSONL file of questions asked and 👍/👎 votes (user ids hashed); empty = off."
    )
    index_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated channel ids (-100…) or @usernames whose posts the bot indexes (it must be a channel admin).",
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

    @field_validator("feeds", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("feeds")
    @classmethod
    def _web_urls(cls, value: list[str]) -> list[str]:
        from index.corpus.urls import is_web_url

        bad = [url for url in value if not is_web_url(url)]
        if bad:
            raise ValueError(f"not an http(s) URL: {', '.join(bad[:3])}")
        return value

    @field_validator(
        "query_prompt",
        "passage_prompt",
        "telegram_api_file_url",
        "webhook_url",
        "question_log",
        "telegram_bot_token",
        "webhook_secret",
        "min_confidence",
        "sure_confidence",
        "answer_models_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("stemmer", "bm25_method", "faiss_index")
    @classmethod
    def _one_of_the_variants(cls, value: str, info: ValidationInfo) -> str:
        choices = {"stemmer": STEMMERS, "bm25_method": BM25_METHODS, "faiss_index": INDEX_TYPES}[info.field_name]
        if value not in choices:
            raise ValueError(f"choose one of {', '.join(choices)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _a_logging_level(cls, value: str) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"choose one of {', '.join(LOG_LEVELS)}")
        return level

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

    @model_validator(mode="after")
    def _bands_in_order(self) -> Settings:
        if self.sure_confidence is not None and self.min_confidence is not None and self.sure_confidence < self.min_confidence:
            raise ValueError(f"SURE_CONFIDENCE ({self.sure_confidence}) must not be below MIN_CONFIDENCE ({self.min_confidence})")
        return self

    def chunk_params(self) -> ChunkParams:
        return ChunkParams(self.chunk_target_words, self.chunk_max_words, self.chunk_min_words, self.chunk_overlap_words)

    def lexical_params(self) -> LexicalParams:
        return LexicalParams(self.stemmer, self.bm25_method, self.bm25_k1, self.bm25_b)

    def search_params(self) -> SearchParams:
        return SearchParams(
            dense_weight=self.dense_weight,
            candidates=self.search_candidates,
            min_confidence=self.min_confidence,
            sure_confidence=self.sure_confidence,
        )

    def answer_models(self) -> AnswerModels:
        """The answer layer's models: ANSWER_MODELS_DIR, else the ones shipped in the package."""
        return AnswerModels.load(self.answer_models_dir or MODELS_DIR)

    def fetch_config(self, workers: int = 8) -> FetchConfig:
        """How ``index.fetch`` fetches pages (a ``FetchConfig``)."""
        from index.web.client import FetchConfig, user_agent

        return FetchConfig(
            user_agent=user_agent(self.fetch_contact),
            connect_timeout=min(10.0, self.fetch_timeout_seconds),
            read_timeout=self.fetch_timeout_seconds,
            max_bytes=int(self.fetch_max_page_mb * 1024 * 1024),
            delay=self.fetch_delay_seconds,
            allow_private=self.allow_private_urls,
            workers=workers,
        )

    def build_config(self) -> BuildConfig:
        return BuildConfig(
            model=self.embedding_model,
            query_prompt=self.query_prompt,
            passage_prompt=self.passage_prompt,
            chunking=self.chunk_params(),
            lexical=self.lexical_params(),
            index_titles=self.index_titles,
            embed_max_words=self.embed_max_words,
            faiss_index=self.faiss_index,
            batch_size=self.embedding_batch_size,
            threads=self.embedding_threads,
            max_file_bytes=int(self.max_file_mb * 1024 * 1024),
            max_article_chars=self.max_article_chars,
        )


class SettingsError(ValueError):
    """A setting in the environment or ``.env`` has a value that cannot be used."""


def load_settings() -> Settings:
    """``Settings()``, with invalid values reported one line each by their variable name."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']} (got {error.get('input')!r})"
            if error["loc"]
            else error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        ]
        raise SettingsError("invalid setting(s) in the environment or .env:\n  " + "\n  ".join(lines)) from None
