"""``newsfacet serve --workers N``: a pre-fork server, N waitress processes on one socket.

One Python process answers at most about one request per CPU-millisecond of
request work, whatever its thread count, because of the GIL; several processes
are the way to use several cores.  The parent here

* opens the listening socket(s) itself, so the port is taken once, before any
  worker exists, and connections that arrive while a worker restarts wait in
  the kernel's queue instead of being refused;
* forks the workers.  Each builds its own WSGI app *after* the fork (the
  *make_app* callable), so no Whoosh file handle, SQLite connection, lock or
  thread is shared between processes, and runs waitress on the inherited socket
  (``waitress.create_server(app, sockets=[...])``); the kernel hands each new
  connection to one of the workers waiting in ``accept``;
* supervises: a worker that dies is replaced, at once if it had been running for
  a while and after a growing pause (up to :data:`MAX_BACKOFF` seconds) if
  workers keep dying young, so a crash at start-up does not spin; SIGTERM,
  SIGINT or SIGHUP is passed on to every worker, which finishes the requests it
  is answering (waitress gives them a few seconds) and exits; a worker still
  there after :data:`STOP_GRACE` seconds is killed; the parent returns once all
  are gone.

A worker never outlives the parent: on Linux the kernel sends it SIGTERM when
the parent dies (``prctl(PR_SET_PDEATHSIG)``), elsewhere a thread in the worker
notices the parent's PID change.

Nothing here knows about newsfacet itself: the caller gives the app factory and
waitress's options.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable

# A worker that ran at least this long before dying is replaced at once.
STABLE_SECONDS = 10.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
# Seconds the workers get to finish after a stop signal before they are killed.
STOP_GRACE = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def listen_sockets(host: str, port: int, backlog: int = 1024) -> list[socket.socket]:
    """Bound, listening TCP sockets for *host*:*port*, one per address the name resolves to
    (as waitress binds them); port 0 takes a free port, the same for every address."""
    infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP,
                               socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    seen: set = set()
    try:
        for family, socktype, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, socktype, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if sockets[0] is not sock and address[1] == 0:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _die_with_parent(parent: int) -> None:
    """Make sure this worker gets SIGTERM when *parent* is gone (see the module's note)."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def _stop_worker(signum, frame) -> None:
    # The first stop signal ends waitress's loop (it catches SystemExit and lets running
    # requests finish); later ones are not to interrupt that.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise SystemExit(0)


def _run_worker(make_app: Callable[[], Callable], sockets: list[socket.socket], options: dict,
                parent: int, inherited_fds: tuple[int, ...]) -> int:
    """The life of one worker process, from just after the fork; returns its exit status."""
    signal.set_wakeup_fd(-1)
    for fd in inherited_fds:
        os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stop_worker)
    # Blocked across the fork (see Supervisor._spawn): one sent meanwhile arrives now, to our handler.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        _die_with_parent(parent)
        from waitress import create_server

        app = make_app()
        server = create_server(app, sockets=sockets, **options)
        server.run()  # returns after a stop signal, once waitress has shut its threads down
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        traceback.print_exc()
        return 1


class Supervisor:
    """The parent of :func:`serve_prefork`: forks, replaces and stops the workers."""

    def __init__(self, make_app: Callable[[], Callable], sockets: list[socket.socket], workers: int,
                 options: dict, log: Callable[[str], None]):
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, not {workers}")
        self.make_app = make_app
        self.sockets = sockets
        self.workers = workers
        self.options = options
        self.log = log
        self.pids: dict[int, int] = {}  # pid -> slot
        self.started: dict[int, float] = {}  # slot -> when its worker was forked
        self.young_deaths = [0] * workers  # per slot, deaths in a row of workers that ran < STABLE_SECONDS
        self.due: dict[int, float] = {}  # slot -> when to fork its next worker
        self.stopping: float | None = None  # when the stop signal came
        self.killed = False

    def _spawn(self, slot: int, wake: tuple[int, int]) -> int:
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        # Until the worker has its own handlers, a stop signal would reach the parent's (which
        # only wake the parent's loop): keep them blocked across the fork.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = -1
        try:
            pid = os.fork()
        finally:
            if pid != 0:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if pid == 0:  # the worker: never return into the parent's stack
            status = 1
            try:
                status = _run_worker(self.make_app, self.sockets, self.options, parent, wake)
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status)
        self.pids[pid] = slot
        self.started[slot] = time.monotonic()
        return pid

    def _reap(self) -> None:
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.pids.clear()
                return
            if pid == 0:
                return
            slot = self.pids.pop(pid, None)
            if slot is None or self.stopping is not None:
                continue
            lived = time.monotonic() - self.started.get(slot, 0.0)
            if lived >= STABLE_SECONDS:
                self.young_deaths[slot] = 0
                delay = 0.0
            else:
                self.young_deaths[slot] += 1
                delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (self.young_deaths[slot] - 1))
            self.due[slot] = time.monotonic() + delay
            self.log(f"newsfacet: worker {pid} {_describe(status)} after {lived:.1f} s; "
                     + (f"starting another in {delay:.1f} s" if delay else "starting another"))

    def _signal_all(self, sig: int) -> None:
        for pid in list(self.pids):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def run(self) -> int:
        """Fork the workers and look after them until a stop signal and their end; returns 0."""
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        wake = (read_fd, write_fd)
        # Each signal writes its number to the pipe (the handlers themselves do nothing), so the
        # loop below wakes for it at once, without racing a flag against its sleep.
        previous = {sig: signal.signal(sig, lambda signum, frame: None) for sig in (*STOP_SIGNALS, signal.SIGCHLD)}
        old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        try:
            for slot in range(self.workers):
                self._spawn(slot, wake)
            self.log(f"newsfacet: {self.workers} worker processes: {' '.join(map(str, self.pids))} "
                     f"(parent {os.getpid()})")
            while True:
                now = time.monotonic()
                if self.stopping is None:
                    timeout = max(0.0, min(self.due.values(), default=now + 5.0) - now)
                else:
                    timeout = 0.5
                try:
                    select.select([read_fd], [], [], timeout)
                except InterruptedError:
                    pass
                signals = self._drain(read_fd)
                self._reap()
                stop = next((s for s in signals if s in STOP_SIGNALS), None)
                if stop is not None and self.stopping is None:
                    self.stopping = time.monotonic()
                    self.due.clear()
                    self.log(f"newsfacet: {signal.Signals(stop).name}: stopping {len(self.pids)} worker(s)")
                    self._signal_all(signal.SIGTERM)
                elif stop is not None and not self.killed:
                    self.log("newsfacet: stop signal again: killing the workers")
                    self._signal_all(signal.SIGKILL)
                    self.killed = True
                if self.stopping is not None:
                    if not self.pids:
                        return 0
                    if not self.killed and time.monotonic() - self.stopping > STOP_GRACE:
                        self.log(f"newsfacet: workers still running after {STOP_GRACE:.0f} s: killing them")
                        self._signal_all(signal.SIGKILL)
                        self.killed = True
                    continue
                now = time.monotonic()
                for slot, when in sorted(self.due.items()):
                    if when <= now:
                        del self.due[slot]
                        self.log(f"newsfacet: worker {self._spawn(slot, wake)} started")
        finally:
            # An unexpected error in the loop: take the workers down with us rather than leave them.
            if self.pids:
                self._signal_all(signal.SIGKILL)
                for pid in list(self.pids):
                    try:
                        os.waitpid(pid, 0)
                    except ChildProcessError:
                        pass
                self.pids.clear()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(read_fd)
            os.close(write_fd)

    @staticmethod
    def _drain(fd: int) -> list[int]:
        data = b""
        while True:
            try:
                chunk = os.read(fd, 512)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            if not chunk:
                break
            data += chunk
        return list(data)


def serve_prefork(make_app: Callable[[], Callable], host: str, port: int, workers: int, options: dict,
                  log: Callable[[str], None] | None = None, on_listening: Callable[[int], None] | None = None,
                  backlog: int = 1024) -> int:
    """Serve with *workers* waitress processes on *host*:*port* until a stop signal; returns 0.

    :param make_app: called in each worker after the fork; returns the WSGI app.
    :param options: waitress adjustments (threads, connection_limit, ...), per worker;
        not host, port or listen: the sockets are made here.
    :param on_listening: called in the parent with the port once the sockets listen.
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    sockets = listen_sockets(host, port, backlog)
    try:
        if on_listening:
            on_listening(sockets[0].getsockname()[1])
        return Supervisor(make_app, sockets, workers, dict(options, backlog=backlog), log).run()
    finally:
        for sock in sockets:
            sock.close()
