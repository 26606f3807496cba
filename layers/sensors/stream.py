"""Where a live stream stands: which observation ids it has sent, which it still waits for.

A stream polls ``observations.id > watermark``. Ids are handed out when a row is inserted
but become visible when its transaction commits, and on PostgreSQL concurrent ingests can
commit out of id order (a lower id appearing after a higher one was sent); ids burnt by
``ON CONFLICT DO NOTHING`` or rolled back never appear at all. So the cursor keeps the
watermark below the oldest id it has not seen yet, for up to ``grace`` seconds, and
remembers what it sent above it: nothing is sent twice and a late commit within the grace
period is still sent. SQLite has one writer at a time, so there are no such gaps there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_GRACE_SECONDS = 2.0
#: A longer run of missing ids is burnt (conflicts, rollbacks), not waited for.
MAX_GAP = 10_000


@dataclass
class StreamCursor:
    watermark: int
    grace: float = DEFAULT_GRACE_SECONDS
    #: ids above the watermark already sent
    sent: set[int] = field(default_factory=set)
    #: [first, last] id ranges not seen yet, with the time each gap was first noticed
    gaps: list[tuple[int, int, float]] = field(default_factory=list)

    @property
    def last_sent(self) -> int:
        return max(self.sent, default=self.watermark)

    def accept(self, rows: Iterable[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """The rows not sent before (in id order); moves the watermark as far as is safe."""
        fresh = sorted(
            (r for r in rows if r["id"] > self.watermark and r["id"] not in self.sent),
            key=lambda r: int(r["id"]),
        )
        top_before = self.last_sent
        self.sent.update(int(r["id"]) for r in fresh)
        # New gaps: ids between the previous top and the new one that did not come.
        if fresh and fresh[-1]["id"] > top_before:
            expected = top_before + 1
            for r in fresh:
                rid = int(r["id"])
                if rid > expected and rid > top_before:
                    self.gaps.append((max(expected, top_before + 1), rid - 1, now))
                expected = max(expected, rid + 1)
        # Gaps shrink as late ids arrive; a gap older than the grace period is given up.
        kept: list[tuple[int, int, float]] = []
        for lo, hi, seen in self.gaps:
            if now - seen > self.grace or hi - lo >= MAX_GAP:
                continue
            missing = [i for i in range(lo, hi + 1) if i not in self.sent]
            if missing:
                kept.append((missing[0], missing[-1], seen))
        self.gaps = kept
        self.watermark = (
            min(lo for lo, _, _ in self.gaps) - 1
            if self.gaps
            else max(self.last_sent, self.watermark)
        )
        self.sent = {i for i in self.sent if i > self.watermark}
        return fresh
