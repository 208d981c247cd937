"""A client for any OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp's server, hosted APIs).

Built on httpx (already a dependency): one POST to ``{LLM_BASE_URL}/chat/completions``, streamed
(server-sent events) or not, and a GET of ``/models`` for the start-up check. Every failure
becomes an ``LLMError`` with a short reason ("timeout", "HTTP 429", "malformed response"), which
the reader turns into the extractive reply.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class LLMConfig:
    """Where the model is and how long to wait for it (``LLM_*`` settings)."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 20.0
    max_tokens: int = 300


class LLMError(Exception):
    """The endpoint did not give a usable answer; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Usage:
    """Tokens and time of one call (tokens as the endpoint reports them; 0 when it does not)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    answered: bool = False  # the endpoint began an answer (a refused or failed request costs no tokens)


@dataclass
class Stream:
    """A streamed answer: iterate for the text as it comes; ``usage`` is filled in when it ends."""

    chunks: Iterator[str]
    usage: Usage = field(default_factory=Usage)

    def __iter__(self) -> Iterator[str]:
        return self.chunks

    def close(self) -> None:
        """Stop reading (the connection is closed); ``usage.seconds`` is then set."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


class ChatClient:
    """Chat completions from one endpoint; safe to share between threads (httpx's client is)."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        timeout = httpx.Timeout(config.timeout, connect=min(5.0, config.timeout))
        self._http = httpx.Client(base_url=config.base_url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def check(self) -> str:
        """ "" when the endpoint answers and lists the model; else what is wrong, in one sentence."""
        try:
            response = self._http.get("/models")
        except httpx.HTTPError as exc:
            return f"{self.config.base_url} does not answer ({type(exc).__name__})"
        if response.status_code >= 400:
            return f"{self.config.base_url}/models answered HTTP {response.status_code}"
        try:
            names = {str(m.get("id")) for m in response.json().get("data", [])}
        except (ValueError, AttributeError):
            return f"{self.config.base_url}/models gave no model list"
        if names and self.config.model not in names:
            return f"the endpoint has no model {self.config.model!r} (it lists {', '.join(sorted(names)[:5])})"
        return ""

    def _payload(self, messages: list[dict[str, str]], stream: bool) -> dict:
        payload = {
            "model": self.config.model,
            "messages": messages,
            "max_tokens": self.config.max_tokens,
            "temperature": 0,
            "stream": stream,
        }
        if stream:
            payload["stream_options"] = {"include_usage": True}
        return payload

    def complete(self, messages: list[dict[str, str]]) -> tuple[str, Usage]:
        """The whole answer at once, and its usage."""
        started = time.perf_counter()
        try:
            response = self._http.post("/chat/completions", json=self._payload(messages, stream=False))
        except httpx.TimeoutException:
            raise LLMError("timeout") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"connection failed ({type(exc).__name__})") from None
        _raise_for_status(response)
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"]
            prompt, completion = _usage(data.get("usage"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise LLMError("malformed response") from None
        if not isinstance(text, str):
            raise LLMError("malformed response")
        return text, Usage(prompt, completion, time.perf_counter() - started)

    def stream(self, messages: list[dict[str, str]]) -> Stream:
        """The answer as it is written (server-sent events); the usage when the stream ends."""
        result = Stream(iter(()))
        result.chunks = self._chunks(messages, result.usage)
        return result

    def _chunks(self, messages: list[dict[str, str]], usage: Usage) -> Iterator[str]:
        started = time.perf_counter()
        try:
            with self._http.stream("POST", "/chat/completions", json=self._payload(messages, stream=True)) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_status(response)
                usage.answered = True
                for line in response.iter_lines():
                    if time.perf_counter() - started > self.config.timeout:  # the whole answer, not each chunk
                        raise LLMError("timeout")
                    if not line.startswith("data:"):
                        continue
                    body = line[5:].strip()
                    if body == "[DONE]":
                        break
                    try:
                        data = json.loads(body)
                        if data.get("usage"):
                            usage.prompt_tokens, usage.completion_tokens = _usage(data["usage"])
                        pieces = [(choice.get("delta") or {}).get("content") for choice in data.get("choices") or []]
                    except (ValueError, TypeError, AttributeError):
                        raise LLMError("malformed response") from None
                    for piece in pieces:
                        if isinstance(piece, str) and piece:
                            yield piece
        except httpx.TimeoutException:
            raise LLMError("timeout") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"connection failed ({type(exc).__name__})") from None
        finally:
            usage.seconds = time.perf_counter() - started


def _usage(data: object) -> tuple[int, int]:
    """(prompt, completion) tokens from a usage object; ValueError when it is not one."""
    if data is None:
        return 0, 0
    if not isinstance(data, dict):
        raise ValueError("usage is not an object")
    values = [data.get("prompt_tokens") or 0, data.get("completion_tokens") or 0]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in values):
        raise ValueError("token counts are not counts")
    return int(values[0]), int(values[1])


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code == 429:
        raise LLMError("HTTP 429 (rate limited)")
    if response.status_code >= 400:
        raise LLMError(f"HTTP {response.status_code}")
