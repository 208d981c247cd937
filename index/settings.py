"""The engine's settings, read from the environment and ``.env``: the corpus, the index, fetching, searching.

The bot's own settings (token, admins, webhook, limits) extend these in ``bot/settings.py``; the
command line reads only these, and its flags override individual values. Every setting is listed,
with its default, in ``.env.example`` and in docs/configuration.md.

Importing this module loads no engine code: the engine's parameter records (``BuildConfig``,
``SearchParams``…) are made on demand, and their defaults, spelled here as literals, are checked
against theirs by tests/test_settings.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.embedding import BUILTIN_MODEL

if TYPE_CHECKING:
    from index.answer.reader import Reader
    from index.build import BuildConfig
    from index.search.searcher import AnswerModels, SearchParams
    from index.storage.lexical import LexicalParams
    from index.storage.milvus.target import MilvusTarget
    from index.text.chunking import ChunkParams
    from index.web.client import FetchConfig


def _choices(field: str) -> tuple[str, ...]:
    """The names a variant setting accepts, from the module that implements the variants."""
    if field == "stemmer":
        from index.text.arabic import STEMMERS

        return STEMMERS
    if field == "bm25_method":
        from index.storage.lexical import BM25_METHODS

        return BM25_METHODS
    from index.storage.vectors import INDEX_TYPES

    return INDEX_TYPES


class EngineSettings(BaseSettings):
    """The engine's settings. Environment variable names are the field names in upper case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    # --- corpus and index
    index_dir: Path = Field(
        Path("var/index"), description="Directory holding the index builds (with Milvus: only the embeddings cache)."
    )
    index_store: str = Field(
        "", description="Empty: the embedded store in INDEX_DIR. milvus://HOST:PORT/NAME: the index in Milvus (docs/milvus.md)."
    )
    milvus_token: SecretStr | None = Field(None, description="Milvus credentials, USER:PASSWORD or an API key.")
    milvus_tls: bool = Field(False, description="Connect to Milvus over TLS.")
    articles_dir: Path = Field(Path("var/articles"), description="Where /reindex and uploads read and write articles.")
    embedding_model: str = Field(BUILTIN_MODEL, description="Built-in model, a sentence-transformers name or a local path.")
    query_prompt: str | None = Field(None, description="Prefix for questions (default: from the model, e.g. 'query: ' for e5).")
    passage_prompt: str | None = Field(None, description="Prefix for passages (default: from the model).")
    embedding_batch_size: int = Field(64, ge=1, description="Passages per encoder batch.")
    embedding_threads: int = Field(
        2, ge=1, description="CPU threads of the built-in encoder when building (searches use one each)."
    )
    chunk_target_words: int = Field(150, ge=5, description="Target words per passage.")
    chunk_max_words: int = Field(200, ge=5, description="Most words per passage.")
    chunk_min_words: int = Field(20, ge=1, description="Fewest words per passage (shorter ones join a neighbour).")
    chunk_overlap_words: int = Field(40, ge=0, description="Words (whole sentences) shared by neighbouring passages.")
    stemmer: str = Field("light+snowball", description="none | light | snowball | light+snowball | light+snowball+masdar")
    bm25_method: str = Field("lucene", description="robertson | lucene | atire | bm25l | bm25+")
    bm25_k1: float = Field(0.9, gt=0, description="BM25 k1.")
    bm25_b: float = Field(0.4, ge=0, le=1, description="BM25 b.")
    index_titles: bool = Field(True, description="Give passages their article's title (BM25 terms and embedder context).")
    embed_max_words: int = Field(128, ge=0, description="Words of each passage the embedder sees (0 = all).")
    faiss_index: str = Field("auto", description="auto | flat | hnsw | hnsw-sq8 | ivf-sq8 | ivf-pq")
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
    fetch_recheck_days: float = Field(
        2,
        ge=0,
        description="At each refresh of FEEDS, pages fetched this many days back or less are asked for again with "
        "their ETag, so a correction is found even when no feed or sitemap says so (0 = never).",
    )

    # --- the optional language-model reader (docs/answers.md, "The language-model reader")
    llm_base_url: str = Field(
        "", description="An OpenAI-compatible endpoint (…/v1) for short written answers; empty: off, replies unchanged."
    )
    llm_model: str = Field("", description="The model name the endpoint knows (e.g. qwen2.5:7b-instruct).")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for hosted APIs (empty for a local server).")
    llm_timeout_seconds: float = Field(20, gt=0, description="How long to wait for the model before the extractive reply.")
    llm_max_tokens: int = Field(300, ge=16, description="Longest answer the model may write, in tokens.")
    llm_daily_tokens: int = Field(
        0, ge=0, description="Tokens (prompt + answer) per UTC day; then the reader pauses (0: no cap)."
    )

    # --- search
    top_k: int = Field(3, ge=1, le=20, description="Sources shown per answer.")
    dense_weight: float = Field(0.3, ge=0, le=1, description="Weight of the dense score in fusion.")
    search_candidates: int = Field(100, ge=10, description="Candidates taken from each retriever before fusion.")
    recent_days: int = Field(
        30,
        ge=0,
        description="News about now: for a question that names no time, articles this many days from the newest one "
        "join the candidates and lead when they answer about as well as an older one.",
    )
    min_confidence: float | None = Field(
        None, ge=0, le=1, description="Answer probability below which the reply is 'nothing found' (empty: the model's)."
    )
    sure_confidence: float | None = Field(
        None, ge=0, le=1, description="Below this the reply shows the closest passages, not an answer (empty: the model's)."
    )
    answer_models_dir: Path | None = Field(
        None, description="Directory of retrained answer_sentence.json / answerability.json (empty: the ones shipped)."
    )
    question_log: Path | None = Field(
        None, description="JSONL file of questions asked and 👍/👎 votes (user ids hashed); empty = off."
    )

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
        "question_log",
        "min_confidence",
        "sure_confidence",
        "answer_models_dir",
        "llm_api_key",
        "milvus_token",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("index_store")
    @classmethod
    def _a_milvus_address(cls, value: str) -> str:
        from index.storage.milvus.target import MilvusTarget

        value = value.strip()
        if value:
            MilvusTarget.parse(value)  # BadStoreAddress (a ValueError) says what is wrong
        return value

    @field_validator("stemmer", "bm25_method", "faiss_index")
    @classmethod
    def _one_of_the_variants(cls, value: str, info: ValidationInfo) -> str:
        choices = _choices(info.field_name or "")
        if value not in choices:
            raise ValueError(f"choose one of {', '.join(choices)}")
        return value

    @model_validator(mode="after")
    def _bands_in_order(self) -> EngineSettings:
        if self.sure_confidence is not None and self.min_confidence is not None and self.sure_confidence < self.min_confidence:
            raise ValueError(f"SURE_CONFIDENCE ({self.sure_confidence}) must not be below MIN_CONFIDENCE ({self.min_confidence})")
        return self

    # ------------------------------------------------------------ the engine's parameter records

    def chunk_params(self) -> ChunkParams:
        from index.text.chunking import ChunkParams

        return ChunkParams(self.chunk_target_words, self.chunk_max_words, self.chunk_min_words, self.chunk_overlap_words)

    def lexical_params(self) -> LexicalParams:
        from index.storage.lexical import LexicalParams

        return LexicalParams(self.stemmer, self.bm25_method, self.bm25_k1, self.bm25_b)

    def search_params(self) -> SearchParams:
        from index.search.searcher import SearchParams

        return SearchParams(
            dense_weight=self.dense_weight,
            candidates=self.search_candidates,
            recent_days=self.recent_days,
            min_confidence=self.min_confidence,
            sure_confidence=self.sure_confidence,
        )

    def reader(self) -> Reader | None:
        """The language-model reader when LLM_BASE_URL is set, else None (nothing changes)."""
        if not self.llm_base_url.strip():
            return None
        from index.answer.llm import LLMConfig
        from index.answer.reader import Reader

        key = self.llm_api_key.get_secret_value() if self.llm_api_key else ""
        config = LLMConfig(self.llm_base_url.strip(), self.llm_model, key, self.llm_timeout_seconds, self.llm_max_tokens)
        return Reader(config, self.llm_daily_tokens)

    def store_target(self) -> MilvusTarget | None:
        """The Milvus index INDEX_STORE names, or None for the embedded store in INDEX_DIR."""
        if not self.index_store:
            return None
        from index.storage.milvus.target import MilvusTarget

        token = self.milvus_token.get_secret_value() if self.milvus_token else ""
        return MilvusTarget.parse(self.index_store, token, self.milvus_tls)

    def answer_models(self) -> AnswerModels:
        """The answer layer's models: ANSWER_MODELS_DIR, else the ones shipped in the package."""
        from index.search.searcher import MODELS_DIR, AnswerModels

        return AnswerModels.load(self.answer_models_dir or MODELS_DIR)

    def fetch_config(self, workers: int = 8) -> FetchConfig:
        """How ``index.web`` fetches pages."""
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
        from index.build import BuildConfig

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


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S] = EngineSettings) -> S:  # type: ignore[assignment]
    """``cls()``, with invalid values reported one line each by their variable name."""
    try:
        return cls()
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']} (got {error.get('input')!r})"
            if error["loc"]
            else error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        ]
        raise SettingsError("invalid setting(s) in the environment or .env:\n  " + "\n  ".join(lines)) from None
