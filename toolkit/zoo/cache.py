"""The zoo's on-disk cache: atomic, locked, self-checking entries.

Layout under the cache root (``$TOOLKIT_CACHE`` or ``~/.cache/research-toolkit``)::

    zoo/<name>-<recipe hash>/      a finished entry: Hugging Face files + manifest
    zoo/.tmp/<...>/                 entries being built (never loaded)
    zoo/.locks/<entry>.lock         one lock per entry

An entry is written into ``.tmp``, its manifest (sha256 of every file) written
last, and the directory renamed into place, so a reader sees either nothing or a
whole entry. The build runs under a file lock, so two processes asking for the
same model build it once. An entry whose manifest is missing, unreadable, or
disagrees with the files on disk is *partial*: it is removed and rebuilt, never
loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

CACHE_ENV = "TOOLKIT_CACHE"
MANIFEST = "zoo_manifest.json"


def cache_root() -> Path:
    """The zoo directory: ``$TOOLKIT_CACHE/zoo`` or ``~/.cache/research-toolkit/zoo``."""
    base = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "research-toolkit"
    return Path(base).expanduser() / "zoo"


def recipe_hash(recipe: dict) -> str:
    """A short, stable hash of a recipe: change any setting and the entry changes."""
    blob = json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def entry_path(name: str, recipe: dict, root: Path | None = None) -> Path:
    """Where the entry for ``(name, recipe)`` lives, built or not."""
    return (root or cache_root()) / f"{name}-{recipe_hash(recipe)}"


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


def read_manifest(path: Path) -> dict | None:
    """The manifest of a *complete* entry, or ``None`` if anything is off."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        recorded = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    on_disk = {str(p.relative_to(path)) for p in _files(path)}
    if set(recorded) != on_disk:
        return None
    if any(_sha256(path / rel) != digest for rel, digest in recorded.items()):
        return None
    return manifest


def list_entries(root: Path | None = None) -> list[Entry]:
    """Every entry in the cache, ready or partial (the in-progress area is skipped)."""
    root = root or cache_root()
    if not root.exists():
        return []
    entries = []
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest = read_manifest(path)
        name = (manifest or {}).get("name", path.name.rsplit("-", 1)[0])
        entries.append(Entry(name, path, "ready" if manifest else "partial", manifest or {}))
    return entries


def ensure_entry(
    name: str,
    recipe: dict,
    build: Callable[[Path], dict],
    *,
    root: Path | None = None,
    rebuild: bool = False,
) -> Path:
    """Return the directory of a complete entry for ``(name, recipe)``, building it if needed.

    ``build(directory)`` writes the model files into ``directory`` and returns a
    dict of metrics stored in the manifest. If it raises, nothing is left behind
    and any previous entry is untouched.
    """
    root = root or cache_root()
    final = entry_path(name, recipe, root)
    key = final.name
    if not rebuild and read_manifest(final) is not None:
        return final
    (root / ".locks").mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".locks" / f"{key}.lock")):
        if not rebuild and read_manifest(final) is not None:
            return final  # another process finished it while we waited
        staging = root / ".tmp" / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            started = time.time()
            metrics = build(staging)
            manifest = {
                "name": name,
                "recipe": recipe,
                "recipe_hash": recipe_hash(recipe),
                "metrics": metrics,
                "build_seconds": round(time.time() - started, 2),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "files": {str(p.relative_to(staging)): _sha256(p) for p in _files(staging)},
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            if final.exists():
                shutil.rmtree(final)  # partial or stale: replaced, never loaded
            os.replace(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return final


def remove_entries(name: str | None = None, root: Path | None = None) -> list[Path]:
    """Delete entries (all, or those of one model name) and abandoned builds.

    Each deletion holds the entry's lock, so a build in progress elsewhere is
    waited for rather than cut short; staging directories whose lock is held are
    left alone.
    """
    root = root or cache_root()
    locks = root / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    removed = []
    for entry in list_entries(root):
        if name is None or entry.name == name:
            with FileLock(str(locks / f"{entry.path.name}.lock")):
                shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    staging_area = root / ".tmp"
    for staging in sorted(staging_area.iterdir()) if staging_area.exists() else []:
        key = staging.name.rsplit("-", 2)[0]
        if name is not None and not key.startswith(f"{name}-"):
            continue
        try:
            with FileLock(str(locks / f"{key}.lock"), timeout=0):
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(staging)
        except Timeout:
            continue  # being built right now
    return removed
