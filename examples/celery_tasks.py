"""Scraping from Celery workers: one chromeguard pool per worker process.

Start it with ``celery -A celery_tasks worker --concurrency 4`` (from examples/). Each worker
process opens its own pool when it starts (pools are not shared across fork()) and closes it when
it stops; with ``CHROMEGUARD_REMOTE_ENDPOINTS`` set, the pools attach to a browser farm instead
of launching Chrome on the worker machine.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery  # type: ignore[import-untyped, unused-ignore]
from celery.signals import (  # type: ignore[import-untyped, unused-ignore]
    worker_process_init,
    worker_process_shutdown,
)

import chromeguard

app = Celery("scraper", broker=os.environ.get("CELERY_BROKER_URL", "memory://"))

_pool: chromeguard.BrowserPool | None = None


@worker_process_init.connect  # type: ignore[untyped-decorator, unused-ignore]
def open_pool(**_: Any) -> None:
    """Each worker process gets its own pool."""
    global _pool
    _pool = chromeguard.BrowserPool(size=2)


@worker_process_shutdown.connect  # type: ignore[untyped-decorator, unused-ignore]
def close_pool(**_: Any) -> None:
    """Stops the worker's browsers."""
    if _pool is not None:
        _pool.close()


@app.task  # type: ignore[untyped-decorator, unused-ignore]
def download_urls(url: str) -> list[str]:
    """The direct download URLs of `url`, for the mobile app."""
    result = _pool.scrape(url) if _pool is not None else chromeguard.scrape(url)
    return [download.url for download in result.downloads]
