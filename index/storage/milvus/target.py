"""Where a Milvus index lives: ``milvus://HOST:PORT/NAME`` (``INDEX_STORE``) with ``MILVUS_TOKEN`` and ``MILVUS_TLS``."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "milvus://"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,150}")


class BadStoreAddress(ValueError):
    """``INDEX_STORE`` or ``--store`` is not ``milvus://HOST:PORT/NAME``."""


@dataclass(frozen=True)
class MilvusTarget:
    """A Milvus server and the name of the index on it (the alias readers follow)."""

    host: str
    port: int
    name: str
    token: str = ""
    tls: bool = False

    @classmethod
    def parse(cls, address: str, token: str = "", tls: bool = False) -> MilvusTarget:
        """``milvus://HOST:PORT/NAME``; ``BadStoreAddress`` saying what is wrong otherwise."""
        example = "expected milvus://HOST:PORT/NAME, for example milvus://127.0.0.1:19530/news"
        if not address.startswith(SCHEME):
            raise BadStoreAddress(f"INDEX_STORE {address!r} is not a Milvus address; {example}")
        place, _, name = address[len(SCHEME) :].partition("/")
        host, _, port = place.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadStoreAddress(f"INDEX_STORE {address!r} has no HOST:PORT; {example}")
        if not _NAME.fullmatch(name):
            raise BadStoreAddress(
                f"INDEX_STORE {address!r}: NAME must be letters, digits and underscores, not starting with a digit; {example}"
            )
        return cls(host.strip("[]"), int(port), name, token, tls)

    @property
    def uri(self) -> str:
        """The address pymilvus connects to."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}:{self.port}/{self.name}"
