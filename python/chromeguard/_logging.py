"""Moves the native core's log records into Python `logging`, under the ``chromeguard`` logger.

Rust threads never take the GIL to log: they queue records and write a byte to a pipe. The
thread started here sleeps on that pipe (in `os.read`, which releases the GIL) and delivers the
queued records with `logging`. A level set on the ``chromeguard`` logger at run time is passed
down on each delivery and at each launch, so disabled records are not even formatted in Rust.
"""

from __future__ import annotations

import logging
import os
import threading

from . import _native

logger = logging.getLogger("chromeguard")

_state_lock = threading.Lock()
_pump_pid = 0


def sync_level() -> None:
    """Passes the ``chromeguard`` logger's effective level down to the native core."""
    _native.set_log_level(logger.getEffectiveLevel())


def deliver() -> None:
    """Emits every queued native record now, in the calling thread."""
    records, dropped = _native.drain_logs()
    for level, name, message in records:
        target = logging.getLogger(name)
        if target.isEnabledFor(level):
            target.log(level, message)
    if dropped:
        logger.warning("%d native log records were dropped (the queue was full)", dropped)


def _pump(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 4096):
                return
        except OSError:
            return
        sync_level()
        deliver()


def start() -> None:
    """Starts the delivery thread of this process (again after a fork)."""
    global _pump_pid
    with _state_lock:
        if _pump_pid == os.getpid():
            return
        fd = _native.log_wake_fd()
        threading.Thread(target=_pump, args=(fd,), name="chromeguard-log", daemon=True).start()
        _pump_pid = os.getpid()
    sync_level()
