"""Decoded frames kept on disk, so each clip is decoded once and later epochs are bound by
the model, not by H.264.

An entry is every frame of one clip at the size the pipeline decodes to (the ``Resize`` right
after decoding: the pipeline's first fixed size; random crops and flips come later and still
differ per epoch), as an uncompressed ``.npy`` read back memory-mapped. Its key is the clip
(path, size and modification time: a clip rewritten by a later ``prepare`` is a new key), the
stream and the decode size, so a changed clip or pipeline is decoded again. Writes go to a
temporary file renamed into place, so a run killed mid-write leaves no torn entry, and a run
started again reuses every finished one. The folder is kept under a size bound by removing the
least recently used entries.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_MAX_GIB = 4.0
ENV_DIR = "ETHOCLIP_FRAME_CACHE"
_VERSION = 1  # bump when what an entry holds changes
_SUFFIX = ".npy"
_STALE_TMP_SEC = 3600.0


def default_cache_dir() -> Path:
    """``$ETHOCLIP_FRAME_CACHE``, else ``$XDG_CACHE_HOME/ethoclip/frames`` (~/.cache/…)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ethoclip" / "frames"


class FrameCache:
    """A folder of decoded clips, at most ``max_bytes`` in all."""

    def __init__(self, folder: str | os.PathLike[str], max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)

    def key(self, path: str | os.PathLike[str], stream: int, size: tuple[int, int] | None) -> str:
        st = Path(path).stat()
        text = f"{_VERSION}|{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}|{stream}|{size}"
        return hashlib.sha1(text.encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.folder / f"{key}{_SUFFIX}"

    def get(self, key: str) -> np.ndarray | None:
        """The frames (T, H, W, 3) uint8, memory-mapped; None when not cached (or unreadable)."""
        entry = self._entry(key)
        try:
            frames = np.load(entry, mmap_mode="r")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # unreadable: decode again and replace it
            entry.unlink(missing_ok=True)
            return None
        os.utime(entry)  # recently used: evicted last
        return frames

    def fits(self, nbytes: int) -> bool:
        """Whether an entry of ``nbytes`` is worth storing (a quarter of the bound at most, so
        a long video is never decoded whole for the sake of the cache)."""
        return nbytes <= self.max_bytes // 4

    def put(self, key: str, frames: np.ndarray) -> None:
        """Store ``frames`` atomically, then trim the folder to the bound."""
        if not self.fits(frames.nbytes):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(frames), allow_pickle=False)
            os.replace(tmp, self._entry(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.trim(keep=key)

    def trim(self, keep: str | None = None) -> None:
        """Remove least recently used entries (and stale temporaries) until under the bound."""
        entries = []
        for item in self.folder.iterdir():
            try:
                st = item.stat()
            except FileNotFoundError:  # another worker removed it
                continue
            if item.name.endswith(".tmp"):
                # A write killed mid-way leaves one; a recent one may be in progress elsewhere.
                if time.time() - st.st_mtime > _STALE_TMP_SEC:
                    item.unlink(missing_ok=True)
                continue
            if item.suffix == _SUFFIX:
                entries.append((st.st_mtime_ns, st.st_size, item))
        total = sum(size for _, size, _ in entries)
        for _, size, item in sorted(entries):
            if total <= self.max_bytes:
                break
            if item.stem == keep:
                continue
            item.unlink(missing_ok=True)
            total -= size
