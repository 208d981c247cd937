"""A fake Telegram Bot API server for end-to-end tests.

Why: the bot has to be exercised through the real python-telegram-bot stack (HTTP, parameter encoding, long polling,
retries) without touching the network, and the fake has to be as strict as Telegram, so that formatting mistakes
(broken HTML, over-long text, oversized callback data) fail in tests rather than in production.

Usage::

    async with FakeTelegram() as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url).build()
        fake.message("/start")
        ...
        await fake.wait_for_messages(1)
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

# Parameters whose Bot API type is String: PTB sends str values verbatim (not JSON-encoded), so a text such as "42" or
# "[1]" must not be JSON-decoded. Everything else arrives JSON-encoded when it is not a str.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "file_id",
        "action",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "title",
        "description",
        "short_description",
        "name",
        "query",
        "document",
        "photo",
        "sticker",
        "voice",
        "thumbnail",
    }
)
_JSON_START = re.compile(r"[{\[]|-?\d+(\.\d+)?([eE][+-]?\d+)?$|true$|false$|null$")

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ATTRIBUTES = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "blockquote": {"expandable"}, "tg-emoji": {"emoji-id"}}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*));")
_TAG_NAME_RE = re.compile(r"[^\s>]*")
_END_TAG_NAME_RE = re.compile(r"[A-Za-z-]*")
_ATTR_NAME_RE = re.compile(r"[^\s=>]+")
_UNQUOTED_VALUE_RE = re.compile(r"[^\s>]*")
_SPACES_RE = re.compile(r"\s*")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BUTTON_URL_RE = re.compile(r"(https?|tg)://\S+$")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}$")
# Telegram does not deliver these unless they are listed in allowed_updates explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_MAX_DOWNLOAD = 20 * 1024 * 1024

_dumps = functools.partial(json.dumps, ensure_ascii=False)


class ApiError(Exception):
    """An error answer of the Bot API; raised inside method handlers so one code path builds every error response."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, kept in the recorded params so tests can inspect what the bot uploaded."""

    file_name: str
    content: bytes
    mime_type: str


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    path: str
    content: bytes


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int = 1


@dataclass
class _RandomFaults:
    rate_5xx: float
    rate_429: float
    retry_after: int
    methods: frozenset[str]
    rng: random.Random = field(repr=False)


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def _decode_param(name: str, value: str) -> Any:
    """Undo PTB's encoding: non-str values arrive JSON-encoded, str values arrive verbatim."""
    if name in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if _JSON_START.match(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML subset into (plain text, entities); raise ApiError like Telegram on malformed markup.

    Stricter than Telegram in two places on purpose: a bare "&" and unknown attributes are errors (Telegram's docs
    require escaping; the server tolerates some cases), so escaping bugs surface in tests.
    """

    def fail(reason: str) -> ApiError:
        return _bad_request(f"can't parse entities: {reason}")

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode())

    def unescape(start: int, end: int) -> str:
        parts: list[str] = []
        pos = start
        while (amp := text.find("&", pos, end)) >= 0:
            parts.append(text[pos:amp])
            match = _ENTITY_RE.match(text, amp, end)
            if match is None:
                raise fail(f'character "&" must be escaped as "&amp;" at byte offset {byte_offset(amp)}')
            decimal, hexadecimal, name = match.groups()
            if name is not None:
                if name not in _NAMED_ENTITIES:
                    raise fail(f'unsupported HTML entity "&{name};" at byte offset {byte_offset(amp)}')
                parts.append(_NAMED_ENTITIES[name])
            else:
                code = int(decimal, 10) if decimal is not None else int(hexadecimal, 16)
                if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise fail(f"invalid character reference at byte offset {byte_offset(amp)}")
                parts.append(chr(code))
            pos = match.end()
        parts.append(text[pos:end])
        return "".join(parts)

    out: list[str] = []
    length = 0
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i, n = 0, len(text)

    def emit(chunk: str) -> None:
        nonlocal length
        out.append(chunk)
        length += utf16_len(chunk)

    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            emit(unescape(i, n))
            break
        emit(unescape(i, lt))
        begin = lt
        if text.startswith("</", begin):
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            match = _END_TAG_NAME_RE.match(text, begin + 2)
            end_name = match.group().lower()
            i = _SPACES_RE.match(text, match.end()).end()
            if i >= n or text[i] != ">":
                raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise fail(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{tag.name}>", found "</{end_name}>"'
                )
            entity = _close_tag(tag, stack, length)
            if entity is not None:
                entities.append(entity)
            continue

        match = _TAG_NAME_RE.match(text, begin + 1)
        name, i = match.group().lower(), match.end()
        if i >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        if name not in _HTML_ENTITY_TYPES:
            raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            i = _SPACES_RE.match(text, i).end()
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[i] == ">":
                i += 1
                break
            attr_match = _ATTR_NAME_RE.match(text, i)
            if attr_match is None:
                raise fail(f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}')
            attr, i = attr_match.group().lower(), attr_match.end()
            i = _SPACES_RE.match(text, i).end()
            value = ""
            if i < n and text[i] == "=":
                i = _SPACES_RE.match(text, i + 1).end()
                if i >= n:
                    raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if text[i] in "\"'":
                    close = text.find(text[i], i + 1)
                    if close < 0:
                        raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                    value, i = unescape(i + 1, close), close + 1
                else:
                    value_match = _UNQUOTED_VALUE_RE.match(text, i)
                    value, i = unescape(i, value_match.end()), value_match.end()
            elif not (name == "blockquote" and attr == "expandable"):
                raise fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            if attr not in _HTML_ATTRIBUTES.get(name, ()):
                raise fail(f'Unsupported attribute "{attr}" in the tag "{name}" at byte offset {byte_offset(begin)}')
            attrs[attr] = value
        problem = _tag_attribute_problem(name, attrs)
        if problem:
            raise fail(f"{problem} at byte offset {byte_offset(begin)}")
        stack.append(_OpenTag(name, length, attrs))

    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _tag_attribute_problem(name: str, attrs: dict[str, str]) -> str | None:
    if name == "a" and not attrs.get("href", "").strip():
        return 'Tag "a" must have a non-empty attribute "href"'
    if name == "span" and attrs.get("class") != "tg-spoiler":
        return 'Tag "span" must have class "tg-spoiler"'
    if name == "code" and "class" in attrs and not attrs["class"].startswith("language-"):
        return 'Class of the tag "code" must start with "language-"'
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        return 'Tag "tg-emoji" must have a numeric attribute "emoji-id"'
    return None


def _close_tag(tag: _OpenTag, stack: list[_OpenTag], end: int) -> JSON | None:
    """Turn a closed tag into an entity; <pre><code class="language-x"> collapses into one pre entity like Telegram."""
    if tag.name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "").removeprefix("language-")
        if language:
            stack[-1].attrs["language"] = language
        return None
    if end == tag.start:
        return None
    entity: JSON = {"type": _HTML_ENTITY_TYPES[tag.name], "offset": tag.start, "length": end - tag.start}
    if tag.name == "a":
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    return entity


def check_reply_markup(markup: Any) -> JSON | None:
    """Validate reply_markup the way Telegram does for inline keyboards; other keyboards are accepted as given."""
    if markup is None:
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('can\'t parse inline keyboard button: Field "inline_keyboard" must be an Array of Arrays')
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict):
            raise _bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if not isinstance(button.get("text"), str) or not button["text"].strip():
            raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
        actions = [key for key in _BUTTON_ACTIONS if key in button]
        if not actions:
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        if len(actions) > 1:
            raise _bad_request(f"can't parse inline keyboard button: only one of {', '.join(actions)} may be used")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not (isinstance(button["url"], str) and _BUTTON_URL_RE.match(button["url"])):
            raise _bad_request(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
    return markup


def _int_param(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad_request("invalid integer parameter")
    try:
        return int(value)
    except ValueError:
        raise _bad_request("invalid integer parameter") from None


def photo_size_ok(content: bytes) -> bool:
    """Telegram's photo limits: width + height at most 10,000 and neither side over 20 times the other (PNG read)."""
    if not content.startswith(b"\x89PNG\r\n\x1a\n") or len(content) < 24:
        return True  # only PNG sizes are read here
    width, height = int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return width + height <= 10_000 and max(width, height) <= 20 * min(width, height)


class FakeTelegram:
    """An in-process Telegram Bot API server on 127.0.0.1 that records calls, validates like Telegram and injects updates.

    All state lives on the instance, so every test gets an independent server.
    """

    def __init__(self, token: str = "123456:TEST-TOKEN", *, bot_id: int = 123456, bot_username: str = "news_qa_test_bot") -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.calls: list[tuple[str, JSON]] = []
        self.sent: list[JSON] = []
        self.errors_returned: list[tuple[str, int, str]] = []
        self.undelivered: list[JSON] = []
        self.webhook: JSON = {"url": "", "secret_token": None}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._last_from_user: dict[tuple[int, int], int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._paths: dict[str, str] = {}
        self._callbacks: dict[str, bool] = {}
        self._inline_queries: dict[str, bool] = {}
        self.inline_answers: list[JSON] = []
        self.photos: list[JSON] = []
        self.file_bytes_served: dict[str, int] = {}  # file path -> bytes sent before the download ended
        self._commands: dict[str, list[JSON]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._faults: dict[str, list[_Fault]] = {}
        self._random_faults: _RandomFaults | None = None
        self._delays: dict[str, float] = {}
        self._serial = 0
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._root = ""
        handlers: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "logOut": self._ok,
            "close": self._ok,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            "answerInlineQuery": self._answer_inline_query,
            "sendPhoto": self._send_photo,
            "getChat": self._get_chat,
        }
        # Telegram treats method names case-insensitively.
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """API root for PTB's ``base_url``; PTB appends the token itself."""
        return f"{self._require_root()}/bot"

    @property
    def base_file_url(self) -> str:
        """File root for PTB's ``base_file_url``."""
        return f"{self._require_root()}/file/bot"

    @property
    def methods(self) -> list[str]:
        """The Bot API methods the fake implements; anything else answers 404 like an unknown method."""
        return sorted(name for name, _ in self._handlers.values())

    def _require_root(self) -> str:
        if not self._root:
            raise RuntimeError("FakeTelegram is not started")
        return self._root

    async def start(self) -> None:
        """Serve on a free loopback port; handler cancellation mirrors a client hanging up on a long poll."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._stopping = False
        self._root = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Answer pending long polls and delays first, so neither PTB nor the server waits out a timeout."""
        if self._runner is None:
            return
        self._stopping = True
        self._notify()
        runner, self._runner = self._runner, None
        await asyncio.sleep(0)
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ injecting updates

    def message(
        self,
        text: str | None,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Reader",
        username: str | None = None,
        language_code: str | None = None,
        reply_to_bot: bool = False,
        reply_to: int | None = None,
        entities: list[JSON] | None = None,
        edited: bool = False,
        document: tuple[str | None, bytes, str] | None = None,
        declared_size: int | bool | None = True,
        sticker: bool = False,
        photo: bool = False,
        voice: bool = False,
        caption: str | None = None,
    ) -> JSON:
        """Queue a user message (or edit) shaped like Telegram's, with auto command and mention entities
        (a channel post: ``channel_post``)."""
        chat_id = user_id if chat_id is None else chat_id
        user = self._remember_user(user_id, first_name=first_name, username=username, language_code=language_code)
        chat = self.add_chat(chat_id, chat_type, first_name=first_name, username=username)
        now = int(time.time())
        previous = self._last_from_user.get((chat_id, user_id))
        message_id = previous if edited and previous is not None else self._next_message_id(chat_id)
        self._last_from_user[(chat_id, user_id)] = message_id
        msg: JSON = {"message_id": message_id, "date": now, "chat": dict(chat), "from": dict(user)}
        if edited:
            msg["edit_date"] = now
        if text is not None:
            msg["text"] = text
            text_entities = self._auto_entities(text) if entities is None else entities
            if text_entities:
                msg["entities"] = text_entities
        if caption is not None:
            msg["caption"] = caption
            caption_entities = self._auto_entities(caption)
            if caption_entities:
                msg["caption_entities"] = caption_entities
        if document is not None:  # declared_size: True = the real size, None = not declared, or a (wrong) number
            file_name, content, mime_type = document
            stored = self._store_file("documents", file_name or "file", content)
            msg["document"] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "mime_type": mime_type}
            if file_name is not None:
                msg["document"]["file_name"] = file_name
            if declared_size is not None:
                msg["document"]["file_size"] = len(content) if declared_size is True else int(declared_size)
        if sticker:
            stored = self._store_file("stickers", f"file_{self._serial + 1}.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ")
            msg["sticker"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "file_size": len(stored.content),
            }
        if photo:
            sizes = []
            for width, height in ((90, 60), (800, 533)):
                stored = self._store_file(
                    "photos", f"file_{self._serial + 1}.jpg", b"\xff\xd8\xff\xe0" + width.to_bytes(2, "big")
                )
                sizes.append(
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": width,
                        "height": height,
                        "file_size": len(stored.content),
                    }
                )
            msg["photo"] = sizes
        if voice:
            stored = self._store_file("voice", f"file_{self._serial + 1}.oga", b"OggS\x00")
            msg["voice"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": 3,
                "mime_type": "audio/ogg",
                "file_size": len(stored.content),
            }
        if reply_to_bot:
            msg["reply_to_message"] = self._bot_message_for_reply(chat)
        elif reply_to is not None:  # a reply to one given message of the chat
            replied = copy.deepcopy(self._messages[(chat_id, reply_to)])
            replied.pop("reply_to_message", None)
            msg["reply_to_message"] = replied
        self._messages[(chat_id, message_id)] = msg
        return self._queue({("edited_message" if edited else "message"): msg})

    def command(self, command_text: str, **kw: Any) -> JSON:
        """Same as :meth:`message`; reads better in tests of command handlers."""
        return self.message(command_text, **kw)

    def callback(self, data: str, *, message: JSON, user_id: int = 1001, forged: bool = False) -> JSON:
        """Queue a press of an inline button on a message the bot sent; the button must exist, as in a real client,
        unless ``forged`` (a modified client sending data no button carries)."""
        current = self._messages.get((message["chat"]["id"], message["message_id"]), message)
        rows = current.get("reply_markup", {}).get("inline_keyboard", [])
        if not forged and data not in [button.get("callback_data") for row in rows for button in row]:
            raise ValueError(f"no inline button with callback_data {data!r} on message {current['message_id']}; use raw_update()")
        user = self._users.get(user_id) or self._remember_user(user_id)
        self._serial += 1
        query_id = str(4_000_000_000 + self._serial)
        self._callbacks[query_id] = False
        chat_id = current["chat"]["id"]
        return self._queue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": dict(user),
                    "chat_instance": str(abs(chat_id) * 7919 + 17),
                    "data": data,
                    "message": copy.deepcopy(current),
                }
            }
        )

    def raw_update(self, update: JSON) -> JSON:
        """Queue an arbitrary update; chats and messages inside are remembered so the bot can answer them."""
        if "update_id" in update:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            msg = update.get(key)
            if isinstance(msg, dict):
                self._remember_message(msg)
        query = update.get("callback_query")
        if isinstance(query, dict):
            if isinstance(query.get("message"), dict):
                self._remember_message(query["message"])
            if "id" in query:
                self._callbacks.setdefault(str(query["id"]), False)
        return self._queue(update)

    def channel_post(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        title: str = "Test channel",
        username: str | None = None,
        caption: str | None = None,
        photo: bool = False,
        edit_of: int | None = None,
    ) -> JSON:
        """Queue a post in a channel (``edit_of``: an edit of that earlier post), with url entities like Telegram's."""
        chat = self.add_chat(chat_id, "channel", username=username, title=title)
        now = int(time.time())
        original = self._messages.get((chat_id, edit_of)) if edit_of is not None else None
        message_id = edit_of if edit_of is not None else self._next_message_id(chat_id)
        msg: JSON = {"message_id": message_id, "date": original["date"] if original else now, "chat": dict(chat)}
        msg["sender_chat"] = dict(chat)
        if edit_of is not None:
            msg["edit_date"] = now
        for key, value in (("text", text), ("caption", caption)):
            if value is None:
                continue
            msg[key] = value
            links = [
                {"type": "url", "offset": utf16_len(value[: m.start()]), "length": utf16_len(m.group())}
                for m in re.finditer(r"https?://[^\s]+", value)
            ]
            if links:
                msg["entities" if key == "text" else "caption_entities"] = links
        if photo:
            stored = self._store_file("photos", f"file_{self._serial + 1}.jpg", b"\xff\xd8\xff\xe0")
            msg["photo"] = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 800, "height": 533}]
        self._messages[(chat_id, message_id)] = msg
        return self._queue({("edited_channel_post" if edit_of is not None else "channel_post"): msg})

    def inline_query(
        self, query: str, *, user_id: int = 1001, language_code: str | None = None, chat_type: str = "sender", offset: str = ""
    ) -> JSON:
        """Queue an inline query ("@bot query" typed in some chat); the answer lands in ``inline_answers``."""
        user = self._remember_user(user_id, language_code=language_code) if language_code else self._users.get(user_id)
        user = user or self._remember_user(user_id)
        self._serial += 1
        query_id = str(7_000_000_000 + self._serial)
        self._inline_queries[query_id] = False
        update = {"inline_query": {"id": query_id, "from": dict(user), "query": query, "offset": offset, "chat_type": chat_type}}
        return self._queue(update)

    async def wait_for_inline_answers(self, n: int, timeout: float = 30) -> list[JSON]:
        """Wait until ``n`` inline queries were answered; returns the accepted answerInlineQuery params, oldest first."""
        result = await self._wait_until(lambda: list(self.inline_answers) if len(self.inline_answers) >= n else None, timeout)
        if result is None:
            raise TimeoutError(
                f"expected {n} inline answer(s) within {timeout}s, got {len(self.inline_answers)}\n{self.describe()}"
            )
        return result

    def add_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        first_name: str = "Reader",
        username: str | None = None,
        title: str | None = None,
    ) -> JSON:
        """Make a chat known, so the bot may send to it without an injected update first (else: "chat not found")."""
        if chat_type == "private":
            chat: JSON = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        else:
            known = self._chats.get(chat_id, {})
            chat = {"id": chat_id, "type": chat_type, "title": title or known.get("title") or f"Test {chat_type} {abs(chat_id)}"}
            if username or known.get("username"):
                chat["username"] = username or known["username"]
        self._chats[chat_id] = chat
        return chat

    # ------------------------------------------------------------------ what the bot did

    def messages_to(self, chat_id: int) -> list[JSON]:
        """Messages created by sendMessage in one chat, oldest first."""
        return [msg for msg in self.sent if msg["chat"]["id"] == chat_id]

    def current(self, chat_id: int, message_id: int) -> JSON | None:
        """The latest version of a message (after edits), or None once deleted; ``sent`` keeps the originals."""
        return self._messages.get((chat_id, message_id))

    async def wait_for_messages(self, n: int, chat_id: int | None = None, timeout: float = 30) -> list[JSON]:
        """Wait until at least n messages were sent (to chat_id if given); the timeout error shows the call log."""

        def ready() -> list[JSON] | None:
            msgs = self.sent if chat_id is None else self.messages_to(chat_id)
            return list(msgs) if len(msgs) >= n else None

        result = await self._wait_until(ready, timeout)
        if result is None:
            where = "" if chat_id is None else f" to chat {chat_id}"
            got = len(self.sent if chat_id is None else self.messages_to(chat_id))
            raise TimeoutError(f"expected {n} message(s){where} within {timeout}s, got {got}\n{self.describe()}")
        return result

    async def wait_for_call(self, method: str, n: int = 1, timeout: float = 30) -> list[JSON]:
        """Wait until ``method`` was called at least n times; returns the params of those calls."""
        method = self._canonical(method)

        def ready() -> list[JSON] | None:
            params = [p for name, p in self.calls if name == method]
            return params if len(params) >= n else None

        result = await self._wait_until(ready, timeout)
        if result is None:
            raise TimeoutError(f"expected {n} call(s) of {method} within {timeout}s\n{self.describe()}")
        return result

    def describe(self, last: int = 40) -> str:
        """A readable log of recent calls and errors, for assertion messages."""
        lines = [f"calls ({len(self.calls)} total, last {last}):"]
        for method, params in self.calls[-last:]:
            text = repr(params)
            lines.append(f"  {method} {text[:300] + '…' if len(text) > 300 else text}")
        if self.errors_returned:
            lines.append("errors returned:")
            lines.extend(f"  {method} {status} {description}" for method, status, description in self.errors_returned[-last:])
        return "\n".join(lines)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, description: str | None = None, times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail without side effects, as Telegram does under load."""
        if description is None:
            if status == 429:
                description = "Too Many Requests" + (f": retry after {retry_after}" if retry_after is not None else "")
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, "Error")
        fault = _Fault(status, description, retry_after if status == 429 else None, remaining=times)
        self._faults.setdefault(self._canonical(method), []).append(fault)

    def random_faults(
        self,
        *,
        rate_5xx: float = 0.0,
        rate_429: float = 0.0,
        retry_after: int = 1,
        seed: int = 0,
        methods: tuple[str, ...] = ("sendMessage", "editMessageText"),
    ) -> None:
        """Fail a seeded random share of calls, for resilience tests that stay reproducible; zero rates switch it off."""
        if rate_5xx <= 0 and rate_429 <= 0:
            self._random_faults = None
            return
        self._random_faults = _RandomFaults(
            rate_5xx, rate_429, retry_after, frozenset(self._canonical(m) for m in methods), random.Random(seed)
        )

    def delay(self, method: str, seconds: float) -> None:
        """Hold back answers to ``method``; the call is processed first, so a client timeout hides a real side effect."""
        self._delays[self._canonical(method)] = seconds

    # ------------------------------------------------------------------ internals: state

    def _canonical(self, method: str) -> str:
        entry = self._handlers.get(method.lower())
        return entry[0] if entry else method

    def _notify(self) -> None:
        """Wake every waiter; replacing the event makes it a broadcast without a lock."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, ready: Callable[[], Any], timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            value = ready()
            if value is not None:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return ready()

    def _queue(self, update: JSON) -> JSON:
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        kind = next((key for key in update if key != "update_id"), "")
        allowed = self._allowed_updates
        if (kind in _OPT_IN_UPDATES) if allowed is None else (kind not in allowed):
            self.undelivered.append(update)
        else:
            self._updates.append(update)
            self._notify()
        return update

    def _remember_user(
        self, user_id: int, *, first_name: str = "Reader", username: str | None = None, language_code: str | None = None
    ) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _remember_message(self, msg: JSON) -> None:
        chat = msg.get("chat")
        if isinstance(chat, dict) and "id" in chat:
            self._chats[chat["id"]] = dict(chat)
            if "message_id" in msg:
                self._messages[(chat["id"], msg["message_id"])] = msg
                self._last_message_id[chat["id"]] = max(self._last_message_id.get(chat["id"], 0), msg["message_id"])
        sender = msg.get("from")
        if isinstance(sender, dict) and "id" in sender and not sender.get("is_bot"):
            self._users[sender["id"]] = dict(sender)

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _bot_user(self) -> JSON:
        return {"id": self.bot_id, "is_bot": True, "first_name": "News QA Test Bot", "username": self.bot_username}

    def _new_bot_message(self, chat: JSON) -> JSON:
        return {
            "message_id": self._next_message_id(chat["id"]),
            "from": self._bot_user(),
            "chat": dict(chat),
            "date": int(time.time()),
        }

    def _bot_message_for_reply(self, chat: JSON) -> JSON:
        """The bot's latest message in the chat, or a stored stand-in when the bot has not written there yet."""
        own = [
            m
            for (chat_id, _), m in self._messages.items()
            if chat_id == chat["id"] and m.get("from", {}).get("id") == self.bot_id
        ]
        if own:
            latest = max(own, key=lambda m: m["message_id"])
        else:
            latest = {**self._new_bot_message(chat), "text": "…"}
            self._messages[(chat["id"], latest["message_id"])] = latest
        reply = copy.deepcopy(latest)
        reply.pop("reply_to_message", None)
        return reply

    def _auto_entities(self, text: str) -> list[JSON]:
        """The entities Telegram clients attach: a leading /command and mentions of this bot."""
        entities: list[JSON] = []
        command_end = 0
        command = _COMMAND_RE.match(text)
        if command:
            command_end = command.end()
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
        pattern = re.compile("@" + re.escape(self.bot_username) + r"(?![A-Za-z0-9_])", re.IGNORECASE)
        for mention in pattern.finditer(text):
            start = mention.start()
            if start < command_end or (start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")):
                continue
            entities.append({"type": "mention", "offset": utf16_len(text[:start]), "length": utf16_len(mention.group())})
        return entities

    def _store_file(self, folder: str, file_name: str, content: bytes) -> _StoredFile:
        self._serial += 1
        # Telegram names stored files itself ("documents/file_12.txt"); the sender's name never enters the path.
        suffix = re.sub(r"[^A-Za-z0-9.]", "", file_name[file_name.rfind(".") :]) if "." in file_name else ""
        path = f"{folder}/file_{self._serial}{suffix}"
        stored = _StoredFile(f"FAKE-{folder}-{self._serial:06d}", f"U{self._serial:06d}", path, content)
        self._files[stored.file_id] = stored
        self._paths[path] = stored.file_id
        return stored

    def _resolve_chat(self, value: Any) -> JSON:
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        chat = None
        if isinstance(value, int) and not isinstance(value, bool):
            chat = self._chats.get(value)
        elif isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            chat = next((c for c in self._chats.values() if str(c.get("username", "")).lower() == name), None)
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _own_message(self, params: JSON, missing: str) -> JSON:
        if "inline_message_id" in params:
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        msg = self._messages.get((chat["id"], _int_param(params.get("message_id"), 0)))
        if msg is None:
            raise _bad_request(missing)
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return msg

    @staticmethod
    def _formatted(params: JSON, key: str, *, limit: int, required: bool) -> tuple[str, list[JSON]]:
        """Apply parse_mode and Telegram's emptiness / length rules (measured on the parsed text, in UTF-16 units)."""
        raw = params.get(key)
        raw = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
        if not raw.strip():
            if required:
                raise _bad_request("message text is empty")
            return "", []
        mode = params.get("parse_mode")
        if mode in (None, ""):
            plain, entities = raw, list(params.get("entities" if key == "text" else "caption_entities") or [])
        elif not isinstance(mode, str) or mode.lower() not in ("html", "markdown", "markdownv2"):
            raise _bad_request("unsupported parse_mode")
        elif mode.lower() == "html":
            plain, entities = parse_html(raw)
        else:
            plain, entities = raw, []
        if not plain.strip():
            if required:
                raise _bad_request("message text is empty")
            return "", []
        if utf16_len(plain) > limit:
            raise _bad_request("message is too long" if key == "text" else "message caption is too long")
        return plain, entities

    def _reply_target(self, chat: JSON, params: JSON) -> JSON | None:
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = bool(reply_parameters.get("allow_sending_without_reply"))
            if reply_parameters.get("chat_id") not in (None, chat["id"]):
                chat = self._resolve_chat(reply_parameters["chat_id"])
        elif "reply_to_message_id" in params:
            message_id = params["reply_to_message_id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        target = self._messages.get((chat["id"], _int_param(message_id, 0)))
        if target is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        reply = copy.deepcopy(target)
        reply.pop("reply_to_message", None)
        return reply

    def _take_fault(self, method: str) -> _Fault | None:
        queued = self._faults.get(method)
        if queued:
            fault = queued[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queued.pop(0)
            return fault
        chaos = self._random_faults
        if chaos is not None and method in chaos.methods:
            draw = chaos.rng.random()
            if draw < chaos.rate_5xx:
                return _Fault(500, _DEFAULT_DESCRIPTIONS[500], None)
            if draw < chaos.rate_5xx + chaos.rate_429:
                return _Fault(429, f"Too Many Requests: retry after {chaos.retry_after}", chaos.retry_after)
        return None

    # ------------------------------------------------------------------ internals: HTTP

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {key: _decode_param(key, value) for key, value in request.query.items()}
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("can't parse JSON object")
            params.update({key: _decode_param(key, value) if isinstance(value, str) else value for key, value in body.items()})
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = Upload(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = _decode_param(key, value if isinstance(value, str) else value.decode())
        return params

    def _error(self, request: web.Request, method: str, error: ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        if request.transport is not None and not request.transport.is_closing():
            self.errors_returned.append((method, error.status, error.description))
            self._notify()
        return web.json_response(body, status=error.status, dumps=_dumps)

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(request, raw_method, ApiError(401, "Unauthorized"))
        entry = self._handlers.get(raw_method.lower())
        method = entry[0] if entry else raw_method
        try:
            params = await self._read_params(request)
        except ApiError as error:
            return self._error(request, method, error)
        self.calls.append((method, params))
        self._notify()
        if entry is None:
            return self._error(request, method, ApiError(404, "Not Found"))
        fault = self._take_fault(method)
        if fault is not None:
            return self._error(request, method, ApiError(fault.status, fault.description, fault.retry_after))
        try:
            result = await entry[1](params)
        except ApiError as error:
            return self._error(request, method, error)
        if self._delays.get(method):
            await self._wait_until(lambda: True if self._stopping else None, self._delays[method])
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        file_id = self._paths.get(path)
        if file_id is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        # streamed in pieces, each sent once the client has taken the last: file_bytes_served says how much
        # of a file a client read before it hung up
        content = self._files[file_id].content
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(content))})
        await response.prepare(request)
        self.file_bytes_served[path] = 0
        try:
            for start in range(0, len(content), 64 * 1024):
                piece = content[start : start + 64 * 1024]
                await response.write(piece)
                self.file_bytes_served[path] += len(piece)
            await response.write_eof()
        except (ConnectionResetError, ConnectionError, RuntimeError):  # the client stopped reading
            pass
        return response

    # ------------------------------------------------------------------ API methods

    async def _ok(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: JSON) -> bool:
        url = params.get("url") or ""
        if url and not str(url).startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook = {"url": "", "secret_token": None}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Long poll: confirm by offset, return at once when updates wait, else sleep until one arrives or stop()."""
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params.get("offset"), 0)
        limit = min(max(_int_param(params.get("limit"), 100), 1), 100)
        timeout = max(float(_int_param(params.get("timeout"), 0)), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()

        def ready() -> list[JSON] | None:
            if generation != self._poll_generation or self._stopping or self._updates:
                return self._updates[:limit] if not self._stopping else []
            return None

        result = await self._wait_until(ready, timeout)
        if generation != self._poll_generation:
            raise ApiError(
                409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        return result or []

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        msg = self._bot_message(chat, params, "text")
        self.sent.append(copy.deepcopy(msg))
        self._notify()
        return msg

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        document = params.get("document")
        if isinstance(document, Upload):
            stored = self._store_file("documents", document.file_name or "document", document.content)
            info = {"file_name": document.file_name, "mime_type": document.mime_type}
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
            info = {"file_name": stored.path.rsplit("/", 1)[-1]}
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            stored = self._store_file("documents", document.rsplit("/", 1)[-1] or "document", b"")
            info = {"file_name": stored.path.rsplit("/", 1)[-1]}
        elif document:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request("there is no document in the request")
        media = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.content), **info}
        msg = self._bot_message(chat, params, "caption", document=media)
        self._notify()
        return msg

    def _bot_message(self, chat: JSON, params: JSON, field: str, **content: object) -> JSON:
        """A message the bot sends: its checked ``field`` ("text", required, 4096 characters; or "caption", 1024),
        buttons and reply target, plus ``content`` (a document, photo sizes); stored for later edits and replies."""
        text, entities = self._formatted(params, field, limit=4096 if field == "text" else 1024, required=field == "text")
        markup = check_reply_markup(params.get("reply_markup"))
        reply = self._reply_target(chat, params)
        msg = self._new_bot_message(chat)
        msg.update(content)
        if text:
            msg[field] = text
            if entities:
                msg["entities" if field == "text" else "caption_entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        if reply is not None:
            msg["reply_to_message"] = reply
        self._messages[(chat["id"], msg["message_id"])] = msg
        return msg

    async def _edit_message_text(self, params: JSON) -> JSON:
        msg = self._own_message(params, "message to edit not found")
        if "text" not in msg:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", limit=4096, required=True)
        markup = check_reply_markup(params.get("reply_markup"))
        if text == msg["text"] and entities == msg.get("entities", []) and markup == msg.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        msg["text"] = text
        _set_or_drop(msg, "entities", entities or None)
        _set_or_drop(msg, "reply_markup", markup)
        msg["edit_date"] = int(time.time())
        self._notify()
        return msg

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        msg = self._own_message(params, "message to edit not found")
        markup = check_reply_markup(params.get("reply_markup"))
        if markup == msg.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        _set_or_drop(msg, "reply_markup", markup)
        msg["edit_date"] = int(time.time())
        self._notify()
        return msg

    async def _delete_message(self, params: JSON) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if self._messages.pop((chat["id"], _int_param(params.get("message_id"), 0)), None) is None:
            raise _bad_request("message to delete not found")
        self._notify()
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if self._callbacks.get(query_id, True):
            raise ApiError(400, _QUERY_TOO_OLD)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callbacks[query_id] = True
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._resolve_chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands")
        for command in commands:
            if not isinstance(command.get("command"), str) or not _COMMAND_NAME_RE.match(command["command"]):
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return list(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _get_file(self, params: JSON) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.content) > _MAX_DOWNLOAD:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }

    async def _answer_inline_query(self, params: JSON) -> bool:
        """Check results like Telegram: at most 50, unique ids of 1-64 bytes, titles, valid message text and markup."""
        query_id = str(params.get("inline_query_id") or "")
        if self._inline_queries.get(query_id, True):
            raise ApiError(400, _QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise _bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = result.get("id")
            if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
                raise _bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result.get("type") != "article":
                raise _bad_request("RESULT_TYPE_INVALID")
            if not isinstance(result.get("title"), str) or not result["title"].strip():
                raise _bad_request("RESULT_TITLE_EMPTY")
            if "description" in result and not isinstance(result["description"], str):
                raise _bad_request("can't parse inline query result description")
            content = result.get("input_message_content")
            if not isinstance(content, dict) or "message_text" not in content:
                raise _bad_request("MESSAGE_EMPTY")
            self._formatted({**content, "text": content["message_text"]}, "text", limit=4096, required=True)
            check_reply_markup(result.get("reply_markup"))
        cache_time = _int_param(params.get("cache_time"), 300)
        if cache_time < 0:
            raise _bad_request("invalid cache_time")
        button = params.get("button")
        if button is not None:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"].strip():
                raise _bad_request("can't parse inline query results button")
            start = button.get("start_parameter")
            if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
                raise _bad_request("START_PARAM_INVALID")
        next_offset = params.get("next_offset")
        if next_offset is not None and len(str(next_offset).encode()) > 64:
            raise _bad_request("NEXT_OFFSET_INVALID")
        self._inline_queries[query_id] = True
        self.inline_answers.append(params)
        self._notify()
        return True

    async def _send_photo(self, params: JSON) -> JSON:
        """A photo upload: the bytes must look like an image Telegram can read (PNG/JPEG/WebP); caption ≤ 1024."""
        chat = self._resolve_chat(params.get("chat_id"))
        photo = params.get("photo")
        if isinstance(photo, Upload):
            if not photo.content.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF")):
                raise _bad_request("IMAGE_PROCESS_FAILED")
            if len(photo.content) > 10 * 1024 * 1024 or not photo_size_ok(photo.content):
                raise _bad_request("PHOTO_INVALID_DIMENSIONS")
            stored = self._store_file("photos", photo.file_name or "photo.png", photo.content)
        elif isinstance(photo, str) and photo in self._files:
            stored = self._files[photo]
        elif photo:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request("there is no photo in the request")
        sizes = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 800, "height": 600}]
        msg = self._bot_message(chat, params, "caption", photo=sizes)
        self.photos.append({**copy.deepcopy(msg), "content": stored.content})
        self._notify()
        return msg

    async def _get_chat(self, params: JSON) -> JSON:
        """A known chat (by id or @username) as a ChatFullInfo."""
        chat = dict(self._resolve_chat(params.get("chat_id")))
        chat.setdefault("accent_color_id", 0)
        chat.setdefault("max_reaction_count", 11)
        return chat


def _set_or_drop(target: JSON, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value
