"""examples/celery_tasks.py: the task scrapes (run eagerly, without a broker)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import chromeguard

from ._site import Site

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_celery_task_returns_download_urls(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("celery")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import celery_tasks

    try:
        celery_tasks.app.conf.task_always_eager = True
        urls = celery_tasks.download_urls.delay(site.url("/downloads.html")).get(timeout=60)
        assert site.url("/files/app-1.2.3.apk") in urls
        celery_tasks.open_pool()
        assert site.url("/files/song.mp3") in celery_tasks.download_urls(
            site.url("/downloads.html")
        )
    finally:
        celery_tasks.close_pool()
        chromeguard.shutdown()
        sys.modules.pop("celery_tasks", None)
