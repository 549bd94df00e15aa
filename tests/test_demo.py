"""The demo that `make demo` runs finds every download of the bundled site."""

from __future__ import annotations

import pytest

from chromeguard import demo


def test_demo_finds_every_download(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main() == 0
    out = capsys.readouterr().out
    for name in (
        "app-2.4.1.apk",
        "user-guide.pdf",
        "dataset-2026.zip",
        "intro.mp4",
        "app-2.4.0.apk",
        "podcast-episode-12.mp3",
    ):
        assert f"/files/{name}  [dom, {name}" in out
    assert "7 download URLs on 2 pages" in out
