"""Every code example of the README runs: the Python blocks (in one namespace, in order) and the
`$ chromeguard ...` console lines, against the fixture site instead of 127.0.0.1:8000."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import chromeguard

from ._site import Site

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_BASE = "http://127.0.0.1:8000"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)


def test_python_examples_run(site: Site) -> None:
    examples = blocks("python")
    assert len(examples) >= 4
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        for code in examples:
            exec(compile(code.replace(EXAMPLE_BASE, site.base), "README.md", "exec"), namespace)
    finally:
        for value in namespace.values():
            if isinstance(value, chromeguard.BrowserPool):
                value.close()
        chromeguard.shutdown()
    assert "get_browser" in namespace


def test_console_examples_run(site: Site, profile_root: Path) -> None:
    commands = [
        line[2:]
        for block in blocks("console")
        for line in block.splitlines()
        if line.startswith("$ ")
    ]
    assert commands
    environment = {**os.environ, "CHROMEGUARD_PROFILE_ROOT": str(profile_root)}
    for command in commands:
        argv = shlex.split(command.replace(EXAMPLE_BASE, site.base))
        assert argv[0] == "chromeguard"
        done = subprocess.run(
            [sys.executable, "-m", "chromeguard", *argv[1:]],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
