"""What a pool's own counters say about leaks."""

from __future__ import annotations

import time

import chromeguard


def stray_contexts(pool: chromeguard.BrowserPool, limit: float = 2.0) -> int:
    """Contexts open beyond the spare pages, once the warmer is done (or after `limit` s)."""
    deadline = time.monotonic() + limit
    while True:
        stats = pool.stats()
        stray = stats["contexts"] - stats["spare_pages"]
        if stray == 0 or time.monotonic() > deadline:
            return stray
        time.sleep(0.02)
