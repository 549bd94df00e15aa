"""What /proc says about the Chrome processes a test started."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[2])


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def processes_using(root: str | os.PathLike[str]) -> list[int]:
    """Live (non-zombie) processes whose ``--user-data-dir`` lies under `root`."""
    prefix = os.fspath(root).rstrip("/") + "/"
    found = []
    for pid in _pids():
        if pid == os.getpid():
            continue
        args = _cmdline(pid)
        if any(
            a.startswith("--user-data-dir=" + prefix) or a == "--user-data-dir=" + prefix[:-1]
            for a in args
        ):
            stat = _stat(pid)
            if stat and stat[0] != "Z":
                found.append(pid)
    return found


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) members of process group `pgid`."""
    members = []
    for pid in _pids():
        stat = _stat(pid)
        if stat and stat[1] == pgid and stat[0] != "Z":
            members.append(pid)
    return members


def listening_inodes() -> set[str]:
    """Socket inodes of every TCP socket in LISTEN state (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A":
                inodes.add(parts[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets `pid` has open."""
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes
