"""SIGINT / SIGTERM during a run: finish the chunk in flight, checkpoint, then stop.

A signal arriving while a compiled chunk runs cannot stop it (and the chunk's input buffers are
donated, so abandoning it would lose the run's state). Instead the handler notes the signal; the
chunk loop checks after every chunk, saves the checkpoint and returns what it has. A second signal
restores Python's default behaviour (a second Ctrl-C aborts at once).
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Interrupts:
    """Signals noted since the context was entered (``.signal``: the first one, or None)."""

    def __init__(self):
        self.signal: int | None = None

    def __bool__(self) -> bool:
        return self.signal is not None


@contextlib.contextmanager
def noting_interrupts():
    flag = Interrupts()
    if threading.current_thread() is not threading.main_thread():  # handlers can only be set there
        yield flag
        return
    sigs = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {s: signal.getsignal(s) for s in sigs}

    def note(signum, frame):
        flag.signal = signum
        for s in sigs:  # the next one acts as it would without us
            signal.signal(s, previous[s] if previous[s] is not None else signal.SIG_DFL)

    for s in sigs:
        signal.signal(s, note)
    try:
        yield flag
    finally:
        for s in sigs:
            signal.signal(s, previous[s] if previous[s] is not None else signal.SIG_DFL)
