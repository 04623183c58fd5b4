"""Helper processes that end with the process that started them, and leave Ctrl-C to it.

An indexing run forks extraction workers and writer processes.  Killed with
``kill -9``, the run cannot stop them, and a helper left waiting for work
would hold the index's write lock (the lock's file descriptor is inherited)
for as long as it lives.  On Linux each helper asks the kernel to kill it
when its parent dies; elsewhere helpers notice on their own (the writer
process checks its parent while it waits).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_NAME = 15
_PR_SET_PDEATHSIG = 1


def become_helper(parent: int, name: bytes | None = None) -> None:
    """Set up a forked helper of process *parent*: be killed when *parent* dies, leave
    Ctrl-C to *parent*, and be called *name* in ps and top (Linux keeps 15 bytes).

    Ctrl-C reaches the whole process group; only the run's process may act on it,
    by stopping its helpers.  A pool worker interrupted while sending a result left
    half a message in the pool's result pipe, and the pool's shutdown waited for
    the rest forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        if name:
            libc.prctl(_PR_SET_NAME, name[:15], 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(0)
