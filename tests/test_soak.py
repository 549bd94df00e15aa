"""A 200-scrape soak (``make soak`` runs 2,000): no error, and file descriptors, threads, Chrome
processes, profile directories and browser contexts back at their baseline, memory bounded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ._site import Site

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

from soak import soak


def test_soak_200(site: Site, profile_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMEGUARD_PROFILE_ROOT", str(profile_root))
    result = soak(200, 4, site, profile_root)
    assert result.failures() == []
