"""A real Milvus for the tests: ``milvus-lite server`` on a free loopback port with a temporary data directory.

Needs the ``milvus`` extra. Without it the Milvus tests skip, except under CI (``CI=true``), where
the test command installs it and a missing server is a failure.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_SECONDS = 60.0  # a cold start took ~4.5 s here; a loaded CI machine may take longer


def milvus_available() -> bool:
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError:
        return False
    return True


def need_milvus() -> None:
    """Skip the test without the extra, or fail under CI, where it must be installed."""
    if not milvus_available():
        if os.environ.get("CI"):
            pytest.fail("the milvus extra is not installed, and CI runs the Milvus tests")
        pytest.skip("pymilvus[milvus-lite] is not installed (pip install -e '.[milvus]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


class LiteServer:
    """One ``milvus-lite server`` process; ``stop`` and ``start`` again on the same port and data (a lost server)."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log = data_dir.parent / f"milvus-lite-{self.port}.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def uri(self, name: str) -> str:
        """The INDEX_STORE value of index ``name`` on this server."""
        return f"milvus://{self.address}/{name}"

    def start(self) -> None:
        command = [sys.executable, "-m", "milvus_lite", "server", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([*command, "--data-dir", str(self.data_dir)], stdout=log, stderr=log)
        deadline = time.monotonic() + START_SECONDS
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"milvus-lite did not start: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextlib.contextmanager
def lite_server(data_dir: Path) -> Iterator[LiteServer]:
    need_milvus()
    server = LiteServer(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
