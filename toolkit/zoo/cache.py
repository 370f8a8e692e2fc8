"""The zoo's on-disk cache: atomic, locked, self-checking entries.

Layout under the cache root (``$TOOLKIT_CACHE`` or ``~/.cache/research-toolkit``)::

    zoo/<name>-<recipe hash>/      a finished entry: Hugging Face files + manifest
    zoo/.tmp/<...>/                 entries being built (never loaded)
    zoo/.locks/<entry>.lock         one lock per entry
    zoo/.locks/<entry>.owner.json   who holds it (pid, host, since), while it is held

An entry is written into ``.tmp``, its manifest (sha256 of every file the build wrote)
written last, and the directory renamed into place, so a reader sees either nothing or a
whole entry. The build runs under a file lock, so two processes asking for the same model
build it once; a process waiting for the lock says who holds it and gives up after
``$TOOLKIT_ZOO_LOCK_TIMEOUT`` seconds (default 1800).

Only the files the manifest lists decide whether an entry is complete: one whose manifest
is missing or unreadable, or whose listed files are missing or changed, is *partial* and is
rebuilt, never loaded. Other files in an entry (say Q-Filters saved next to the model) are
the user's: they never make an entry partial, and a rebuild or ``remove_entries`` replaces
or deletes only the toolkit's own files, keeping them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from toolkit._checks import check_bool, check_number, check_str, describe
from toolkit.zoo.fingerprint import code_fingerprint

CACHE_ENV = "TOOLKIT_CACHE"
LOCK_TIMEOUT_ENV = "TOOLKIT_ZOO_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 1800.0
LOCK_NOTICE_SECONDS = 60.0  # a waiter repeats who holds the lock this often
MANIFEST = "zoo_manifest.json"
BUILD_THREADS = 2
"""Intra-op threads every build trains on: float sums are split by thread, so a model trained
on another count differs in its last bits and, once training amplifies them, in its results."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def cache_root() -> Path:
    """The zoo directory: ``$TOOLKIT_CACHE/zoo`` or ``~/.cache/research-toolkit/zoo`` (where
    ``$TOOLKIT_CACHE`` is unset or blank)."""
    base = Path(os.environ.get(CACHE_ENV, "").strip() or Path.home() / ".cache/research-toolkit")
    base = base.expanduser()
    if base.exists() and not base.is_dir():
        raise ValueError(f"{CACHE_ENV}={str(base)!r} is a file; point it at a directory")
    return base / "zoo"


def _root(root: object) -> Path:
    """``root`` as a ``Path``; :func:`cache_root` when ``None``."""
    if root is None:
        return cache_root()
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be a directory path, got {describe(root)}")
    return Path(root)


def check_entry_name(name: object, argument: str = "name") -> str:
    """A name usable as a cache directory: ASCII letters, digits, ``.``, ``_`` and ``-``,
    starting with a letter or digit, at most 100 characters (no ``/``, ``..`` or unicode)."""
    check_str(argument, name)
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{argument} must be 1-100 ASCII letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit (it names a cache directory), got {name!r}"
        )
    return name


def _check_recipe(recipe: object) -> str:
    """The canonical JSON of ``recipe`` (a dict of JSON values, no NaN or infinity)."""
    if not isinstance(recipe, dict):
        raise TypeError(f"recipe must be a dict, got {describe(recipe)}")
    try:
        return json.dumps(recipe, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:  # a non-JSON type, or NaN/infinity
        raise type(error)(
            f"recipe must hold only JSON values (str, finite numbers, bools, None, lists, dicts "
            f"with str keys): {error}"
        ) from None


def recipe_hash(recipe: dict) -> str:
    """A short, stable hash of a recipe: change any setting and the entry changes."""
    return hashlib.sha256(_check_recipe(recipe).encode()).hexdigest()[:10]


def entry_path(name: str, recipe: dict, root: Path | None = None, code: str = "") -> Path:
    """Where the entry for ``(name, recipe)`` built by the code fingerprinted ``code`` (see
    :mod:`toolkit.zoo.fingerprint`; empty: the recipe alone is the key) lives, built or not."""
    check_entry_name(name)
    key = recipe_hash(recipe)
    if code:
        key = hashlib.sha256(f"{key}\0{code}".encode()).hexdigest()[:10]
    return _root(root) / f"{name}-{key}"


def _entry_name(key: str) -> str:
    """The model name of an entry or staging key ``<name>-<recipe hash>``."""
    return key.rsplit("-", 1)[0]


def _staging_key(staging: Path) -> str:
    """The entry key of a staging directory ``<key>-<pid>-<random>``."""
    return staging.name.rsplit("-", 2)[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


@dataclass(frozen=True)
class Entry:
    """One cache entry; ``status`` is ``"ready"`` or ``"partial"``."""

    name: str
    path: Path
    status: str
    manifest: dict

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


def _manifest(path: Path) -> dict | None:
    """The parsed manifest of an entry, or ``None`` when it is missing or unreadable."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        recorded = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(recorded, dict) or not all(
        isinstance(rel, str) and isinstance(digest, str) and _inside(path, rel)
        for rel, digest in recorded.items()
    ):
        return None
    return manifest


def _inside(directory: Path, rel: str) -> bool:
    return rel != MANIFEST and (directory / rel).resolve().is_relative_to(directory.resolve())


def read_manifest(path: Path) -> dict | None:
    """The manifest of a *complete* entry (every file it lists is there, unchanged), or
    ``None`` if anything is off. Files it does not list are ignored."""
    manifest = _manifest(path)
    if manifest is None or not manifest["files"]:
        return None
    for rel, digest in manifest["files"].items():
        file = path / rel
        if not file.is_file() or _sha256(file) != digest:
            return None
    return manifest


def list_entries(root: Path | None = None) -> list[Entry]:
    """Every entry in the cache, ready or partial (the in-progress area is skipped)."""
    root = _root(root)
    if not root.exists():
        return []
    entries = []
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest = read_manifest(path)
        name = (manifest or {}).get("name", _entry_name(path.name))
        entries.append(Entry(name, path, "ready" if manifest else "partial", manifest or {}))
    return entries


def lock_timeout() -> float:
    """Seconds a process waits for another's build: ``$TOOLKIT_ZOO_LOCK_TIMEOUT`` or 1800."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None
    return check_number(LOCK_TIMEOUT_ENV, seconds, minimum=0, strict_min=True, allow_inf=True)


class ZooLockTimeout(TimeoutError):
    """Another process held an entry's build lock for longer than the lock timeout."""


def _owner_text(owner_file: Path) -> str:
    try:
        owner = json.loads(owner_file.read_text(encoding="utf-8"))
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner["since"]))
        age = time.time() - owner["since"]
        return f"pid {owner['pid']} on host {owner['host']} since {since} ({age:.0f} s ago)"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that left no owner record"


@contextlib.contextmanager
def entry_lock(root: Path, key: str, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the build lock of entry ``key``; while another process holds it, say who (pid,
    host, since when) once and then every ``LOCK_NOTICE_SECONDS``, and raise
    :class:`ZooLockTimeout` after ``timeout`` seconds (default :func:`lock_timeout`)."""
    timeout = lock_timeout() if timeout is None else timeout
    locks = root / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    lock_file, owner_file = locks / f"{key}.lock", locks / f"{key}.owner.json"
    lock = FileLock(str(lock_file))
    started, wait = time.monotonic(), 0.0
    while True:
        try:
            lock.acquire(timeout=wait)
            break
        except Timeout:
            waited = time.monotonic() - started
            if waited >= timeout:
                raise ZooLockTimeout(
                    f"gave up after {waited:.0f} s waiting for the cache entry {key!r}: its "
                    f"lock is held by {_owner_text(owner_file)}. If that build is stuck or its "
                    f"process is gone, stop it and delete {lock_file}, then retry; to wait "
                    f"longer set {LOCK_TIMEOUT_ENV} (seconds)."
                ) from None
            print(
                f"waiting for the cache entry {key!r}: being built by "
                f"{_owner_text(owner_file)} (lock {lock_file})",
                file=sys.stderr,
                flush=True,
            )
            wait = min(LOCK_NOTICE_SECONDS, timeout - waited)
    try:
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        owner_file.write_text(json.dumps(owner), encoding="utf-8")
        yield
    finally:
        owner_file.unlink(missing_ok=True)
        lock.release()


def _install(staging: Path, final: Path) -> None:
    """Put the built entry ``staging`` at ``final``. Where ``final`` exists (partial, stale or
    rebuilt), only the toolkit's files are replaced, the manifest last, so the user's files
    stay where they are and a reader never sees a manifest over half-replaced files."""
    if not final.exists():
        os.replace(staging, final)
        return
    if not final.is_dir():
        raise FileExistsError(
            f"the cache entry {final} is a file, not a directory; move it away and retry"
        )
    old = (_manifest(final) or {}).get("files", {})
    (final / MANIFEST).unlink(missing_ok=True)
    new = {str(p.relative_to(staging)) for p in _files(staging)}
    for rel in sorted(set(old) - new):
        (final / rel).unlink(missing_ok=True)
    for rel in sorted(new):
        (final / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, final / rel)
    os.replace(staging / MANIFEST, final / MANIFEST)


def ensure_entry(
    name: str,
    recipe: dict,
    build: Callable[[Path], dict],
    *,
    root: Path | None = None,
    rebuild: bool = False,
    code: Iterable[str] = (),
) -> Path:
    """Return the directory of a complete entry for ``(name, recipe)``, building it if needed.

    ``code`` names the modules whose code trains the model (usually the builder's module): the
    toolkit code they reach is fingerprinted into the key, so an entry built by other code is
    never reused (see :mod:`toolkit.zoo.fingerprint`).

    ``build(directory)`` writes the model files into ``directory`` and returns a dict of
    metrics (JSON values) stored in the manifest. It runs on :data:`BUILD_THREADS` intra-op
    threads whoever calls it, so one recipe gives the same bits from a notebook, a script or a
    test process that set its own thread count. If it raises, nothing is left behind and
    any previous entry is untouched. Files in the entry that the toolkit did not write are
    kept through a rebuild.
    """
    fingerprint = code_fingerprint(code)
    final = entry_path(name, recipe, root, fingerprint)
    if not callable(build):
        raise TypeError(f"build must be a function of the entry directory, got {describe(build)}")
    check_bool("rebuild", rebuild)
    key = final.name
    if not rebuild and read_manifest(final) is not None:
        return final
    root = final.parent
    with entry_lock(root, key):
        if not rebuild and read_manifest(final) is not None:
            return final  # another process finished it while we waited
        staging = root / ".tmp" / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            started = time.time()
            from toolkit._torch import intra_op_threads  # torch only when something is built

            with intra_op_threads(BUILD_THREADS):
                metrics = build(staging)
            files = {str(p.relative_to(staging)): _sha256(p) for p in _files(staging)}
            if not files:
                raise ValueError(f"build wrote no files into the entry directory for {name!r}")
            manifest = {
                "name": name,
                "recipe": recipe,
                "recipe_hash": recipe_hash(recipe),
                "code_fingerprint": fingerprint,
                "build_threads": BUILD_THREADS,
                "metrics": _check_metrics(metrics),
                "build_seconds": round(time.time() - started, 2),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "files": files,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            _install(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return final


def _check_metrics(metrics: object) -> dict:
    if not isinstance(metrics, dict):
        raise TypeError(f"build must return a dict of metrics, got {describe(metrics)}")
    try:
        json.dumps(metrics)
    except (TypeError, ValueError) as error:
        raise TypeError(f"build's metrics must be JSON values: {error}") from None
    return metrics


def _remove_toolkit_files(entry: Path) -> list[str]:
    """Delete the files the toolkit wrote in ``entry`` (and the directory, if nothing else is
    there); return the relative paths of the files kept (the user's)."""
    manifest = _manifest(entry)
    if manifest is None and _files(entry):
        return [str(p.relative_to(entry)) for p in _files(entry)]  # cannot tell whose they are
    for rel in (manifest or {}).get("files", {}):
        (entry / rel).unlink(missing_ok=True)
    (entry / MANIFEST).unlink(missing_ok=True)
    for directory in sorted((p for p in entry.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            directory.rmdir()  # only empty ones go
    with contextlib.suppress(OSError):
        entry.rmdir()
    return [str(p.relative_to(entry)) for p in _files(entry)] if entry.exists() else []


def cached_names(root: Path | None = None) -> list[str]:
    """Names with an entry (ready or partial) in the cache."""
    return sorted({entry.name for entry in list_entries(root)})


def remove_entries(name: str | None = None, root: Path | None = None) -> list[Path]:
    """Delete entries (all, or those of one model name) and abandoned builds.

    Each deletion holds the entry's lock, so a build in progress elsewhere is waited for
    rather than cut short; staging directories whose lock is held are left alone. Only the
    toolkit's own files are deleted: an entry holding other files keeps them (and its
    directory), with a warning. ``name`` must be a built-in model or have entries in the
    cache (``ValueError`` otherwise, listing the known names).
    """
    from toolkit.zoo.registry import builtin_names

    root = _root(root)
    staging_area = root / ".tmp"
    stagings = sorted(staging_area.iterdir()) if staging_area.exists() else []
    if name is not None:
        check_entry_name(name)
        known = set(builtin_names()) | set(cached_names(root))
        if name not in known | {_entry_name(_staging_key(p)) for p in stagings}:
            raise ValueError(
                f"name {name!r} is neither a built-in model nor in the cache at {root}; "
                f"known names: {', '.join(sorted(known)) or '(none)'}"
            )
    removed = []
    for entry in list_entries(root):
        if name is None or entry.name == name:
            with entry_lock(root, entry.path.name):
                kept = _remove_toolkit_files(entry.path)
            if kept:
                warnings.warn(
                    f"kept {entry.path}: its manifest is unreadable or it holds files the "
                    "toolkit did not write "
                    f"({', '.join(kept[:5])}{', ...' if len(kept) > 5 else ''}); delete them "
                    "yourself if they are not needed",
                    stacklevel=2,
                )
            removed.append(entry.path)
    for staging in stagings:
        key = _staging_key(staging)
        if name is not None and _entry_name(key) != name:
            continue
        try:
            with FileLock(str(root / ".locks" / f"{key}.lock"), timeout=0):
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(staging)
        except Timeout:
            continue  # being built right now
    return removed
