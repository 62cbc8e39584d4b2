"""Proof of play (SPEC 1.6): each slide shown, kept until the source acknowledges it.

The queue survives restarts and power loss without wearing out the SD card: new plays are
appended to a journal in batches (one write per heartbeat, not one per slide), and an
acknowledgement is one small marker file ("everything up to id N is acknowledged").
Bounded: past MAX_PLAYS unacknowledged plays the oldest go, and are counted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from kiosk.core.fsutil import atomic_write, fsync_dir

log = logging.getLogger(__name__)
MAX_PLAYS = 10_000


@dataclass(frozen=True)
class Play:
    id: int  # increasing; the acknowledgement marker is an id
    channel: str
    item: str
    started_at: str  # RFC 3339
    duration_s: float

    def wire(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "item": self.item,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
        }


class PlayQueue:
    """Shared by the player thread (add) and the heartbeat thread (flush, batch, acknowledge)."""

    def __init__(self, folder: Path, limit: int = MAX_PLAYS) -> None:
        self.folder, self.limit = folder, limit
        self.journal = folder / "plays.jsonl"
        self.marker = folder / "plays.acked"
        self._lock = threading.Lock()
        self._plays: deque[Play] = deque()
        self._unwritten: list[Play] = []
        self._journal_lines = 0
        self._torn_tail = False
        self.dropped = 0
        self.write_failed = False  # the last flush could not write (logged once)
        self._acked = self._read_marker()
        self._next_id = self._acked + 1
        self._load()

    def _read_marker(self) -> int:
        try:
            return int(self.marker.read_text().strip())
        except (OSError, ValueError):
            return 0

    def _load(self) -> None:
        for stale in self.folder.glob(".plays.*.tmp"):  # ours, from a write a power cut ended
            stale.unlink(missing_ok=True)
        try:
            data = self.journal.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("%s: unreadable (%s); its plays are lost", self.journal, exc)
            return
        # A power cut can leave the last line half written: the next append must start on
        # a line of its own, or that torn line would swallow the next record too.
        self._torn_tail = bool(data) and not data.endswith(b"\n")
        lines = data.decode("utf-8", "replace").splitlines()
        for line in lines:
            try:
                play = Play(**json.loads(line))
                if not isinstance(play.id, int) or isinstance(play.id, bool):
                    raise TypeError("id")
            except (ValueError, TypeError, RecursionError):
                continue  # a line torn by a power cut, or damaged: skipped, not merged
            self._next_id = max(self._next_id, play.id + 1)
            if play.id > self._acked:
                self._plays.append(play)
        self._journal_lines = len(lines)
        self._trim()

    def _trim(self) -> None:
        while len(self._plays) > self.limit:
            self._plays.popleft()
            self.dropped += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._plays)

    def add(self, channel: str, item: str, started_at: str, duration_s: float) -> None:
        with self._lock:
            play = Play(self._next_id, channel, item, started_at, round(duration_s, 1))
            self._next_id += 1
            self._plays.append(play)
            self._unwritten.append(play)
            self._trim()
            del self._unwritten[: max(0, len(self._unwritten) - self.limit)]

    def flush(self) -> bool:
        """Append the plays not yet on disk, in one write; compact a journal grown past
        twice the bound. False when the disk refused (full, read-only): the plays stay in
        memory, bounded, and are written at a later flush; the heartbeat goes on."""
        with self._lock:
            batch, self._unwritten = self._unwritten, []
            if not batch and self._journal_lines <= 2 * self.limit:
                return True
            try:
                if self._journal_lines + len(batch) > 2 * self.limit:
                    self._rewrite()
                    self.write_failed = False
                    return True
                self.folder.mkdir(parents=True, exist_ok=True)
                with open(self.journal, "a", encoding="utf-8") as f:
                    head = "\n" if self._torn_tail else ""
                    self._torn_tail = True  # until the write is whole
                    f.write(head + "".join(json.dumps(asdict(p)) + "\n" for p in batch))
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                self._unwritten = (batch + self._unwritten)[-self.limit :]
                if not self.write_failed:
                    log.warning("plays kept in memory: the journal cannot be written: %s", exc)
                self.write_failed = True
                return False
            self._journal_lines += len(batch)
            self._torn_tail = self.write_failed = False
            return True

    def _rewrite(self) -> None:
        text = "".join(json.dumps(asdict(p)) + "\n" for p in self._plays)
        atomic_write(self.journal, text.encode("utf-8"), mode=0o640)
        self._journal_lines = len(self._plays)
        self._torn_tail = False

    def batch(self, size: int = 500) -> list[Play]:
        with self._lock:
            return [self._plays[n] for n in range(min(size, len(self._plays)))]

    def acknowledge(self, upto: int) -> None:
        """The source took every play up to this id: drop them, here and on disk."""
        with self._lock:
            while self._plays and self._plays[0].id <= upto:
                self._plays.popleft()
            if upto <= self._acked:
                return
            self._acked = upto
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                atomic_write(self.marker, f"{upto}\n".encode(), mode=0o640)
            except OSError as exc:  # a full disk: after a restart these may go again, and
                # the province stores a play sent twice once (SPEC 7.3)
                log.warning("the acknowledgement cannot be written: %s", exc)
                return
            if not self._plays and not self._unwritten:  # all acknowledged: start afresh
                with contextlib.suppress(FileNotFoundError):
                    self.journal.unlink()
                fsync_dir(self.folder)
                self._journal_lines = 0
                self._torn_tail = False
