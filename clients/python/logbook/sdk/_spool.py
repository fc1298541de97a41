"""The offline spool: an append-only JSON-lines file of the calls the server could not take yet.

One line per call (``{"op": "log_batch", ...}``), in the order the caller made them. Replay reads from the byte
offset kept in ``<spool>.offset`` (rewritten atomically after each replayed call, so a crash mid-replay re-sends at
most one call, which is safe: every call is idempotent) and the files are removed once everything went through.
The file is bounded (``max_bytes``): a call that does not fit is refused (the caller counts and drops it).
A lock file (``<spool>.lock``, flock) keeps two live trackers off the same spool.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator, Optional, Tuple

try:  # POSIX only; elsewhere the spool is simply not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class Spool:
    def __init__(self, path: str, max_bytes: int) -> None:
        self.path = path
        self.offset_path = path + ".offset"
        self.max_bytes = max_bytes
        self.truncated_tail = 0  # bytes of a torn last line (a crash mid-write) found and cut at open
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self._lock_file = open(path + ".lock", "a+")  # noqa: SIM115 - held for the spool's lifetime
        if fcntl is not None:
            try:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another live tracker has it
                self._lock_file.close()
                raise
        self._size = 0
        if os.path.exists(path):
            self._size = os.path.getsize(path)
            self._cut_torn_tail()
        self._offset = self._read_offset()

    def _cut_torn_tail(self) -> None:
        if self._size == 0:
            return
        with open(self.path, "rb+") as f:
            f.seek(0)
            data = f.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                self.truncated_tail = len(data) - end
                f.truncate(end)
                self._size = end

    def _read_offset(self) -> int:
        try:
            with open(self.offset_path, encoding="ascii") as f:
                offset = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0
        return offset if 0 <= offset <= self._size else 0

    @property
    def size(self) -> int:
        return self._size

    def pending(self) -> bool:
        return self._offset < self._size

    def append(self, op: dict) -> bool:
        line = (json.dumps(op, separators=(",", ":")) + "\n").encode("utf-8")
        if self._size + len(line) > self.max_bytes:
            return False
        with open(self.path, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self._size += len(line)
        return True

    def read_pending(self) -> Iterator[Tuple[dict, int]]:
        """The calls not replayed yet, each with the offset just past it (to `commit` once it went through)."""
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            position = self._offset
            for raw in f:
                if not raw.endswith(b"\n"):
                    break
                position += len(raw)
                try:
                    op: Any = json.loads(raw)
                except ValueError:
                    op = None
                yield (op if isinstance(op, dict) else {"op": "corrupt"}), position

    def commit(self, offset: int) -> None:
        self._offset = offset
        tmp = self.offset_path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(str(offset))
        os.replace(tmp, self.offset_path)

    def clear(self) -> None:
        """Everything was replayed: start a new, empty spool."""
        for p in (self.path, self.offset_path):
            try:
                os.remove(p)
            except FileNotFoundError:
                pass
        self._size = 0
        self._offset = 0

    def close(self) -> None:
        """Releases the spool; an empty one leaves no files behind."""
        try:
            if self._size == 0:
                for p in (self.path, self.offset_path, self._lock_file.name):
                    try:
                        os.remove(p)
                    except FileNotFoundError:
                        pass
        finally:
            self._lock_file.close()


def open_spool(path: str, max_bytes: int) -> Tuple[Spool, Optional[str]]:
    """The spool at `path`, or, when another live tracker holds it, one beside it named after this process."""
    try:
        return Spool(path, max_bytes), None
    except BlockingIOError:
        pass
    for n in range(1, 1000):
        alternative = f"{path}.{os.getpid()}" + (f".{n}" if n > 1 else "")
        try:
            return Spool(alternative, max_bytes), f"spool {path} is in use by another tracker; using {alternative}"
        except BlockingIOError:
            continue
    raise RuntimeError(f"no free spool beside {path}")
