"""Ctrl-C while a run records what it summarised: held for the statements that must not be cut in two.

A KeyboardInterrupt is raised wherever the interpreter happens to be when SIGINT arrives. Between a summary
written to the cache and its count it makes the report disagree with the cache; inside a cache transaction it
rolls back summaries already counted as saved; inside a process pool's submit it leaves the pool's bookkeeping
half done. `held` keeps a Ctrl-C for the end of such a block and delivers it there.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Held:
    """Whether a Ctrl-C arrived while held: a loop may stop early at a point of its choosing."""

    pressed = False


@contextmanager
def held() -> Iterator[Held]:
    """Holds Ctrl-C (SIGINT) until the block is done, then delivers it as if pressed at that moment (by default a
    KeyboardInterrupt). Only the main thread runs signal handlers, so elsewhere there is nothing to hold. Blocks
    may nest: an inner block delivers its Ctrl-C to the outer one."""
    state = Held()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def hold(signum: int, frame: object) -> None:
        state.pressed = True

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield state
    finally:  # signal.signal runs a handler still pending first: a Ctrl-C of the last instant is held too
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    if state.pressed:
        signal.raise_signal(signal.SIGINT)
