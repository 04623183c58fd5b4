"""A large run's new documents written into a segment of their own, in a second process.

The process running ``newsfacet index`` resolves entities and copy clusters
for the whole collection, and it is the process a large run waits on: adding
documents to Whoosh's posting pool and flushing the new segment were nearly
half of its time.  With a :class:`SegmentProcess` the run's writer sends its
new documents, a batch at a time, to a forked process that writes them into
a new segment with the same :class:`.segment.PreparedSegmentWriter`; the
run's writer then commits that segment beside its own.  The lock, the
deletions, the merges of older segments and the table of contents all stay
in the run's process, so a commit is as atomic as before.

Whoosh's multiprocessing writer with ``multisegment=True`` does much the same;
it is not used because it passes documents through temporary files, loses a
sub-writer's documents without a word when that process fails, and stops its
processes only by setting a flag in its own copy of them.  Here a failure in
the writer process (a full disk) comes back to the run as the same
``OSError``, a run that fails or is interrupted terminates the process, and
the segment files it leaves are removed with the rest of the partial commit.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
from collections.abc import Callable

from whoosh.codec.base import Segment
from whoosh.reading import SegmentReader

from ..errors import IndexWriteError
from ..procs import become_helper
from .facet_parts import SegmentParts
from .segment import PreparedSegmentWriter

# Documents per message to the writer process.
BATCH = 200
# Batches waiting for the writer process at most: bounds the memory they take;
# the run waits when the writer process falls this far behind.
QUEUED = 4
# Seconds between checks that the other process is still there.
POLL = 1.0


class SegmentProcess:
    """A forked process writing the documents it is sent into one new segment of *ix*.

    :param options: keyword arguments for its ``SegmentWriter`` (``limitmb``, ``compound``).
    :param prepare: run in the process on each document's fields before they are added
        (the analysis of a rewritten article's stored text).
    """

    def __init__(self, ix, options: dict, prepare: Callable[[dict], None] | None = None):
        ctx = multiprocessing.get_context("fork")
        self._jobs = ctx.Queue(QUEUED)
        self._results = ctx.Queue()
        self._batch: list[dict] = []
        self._process = ctx.Process(target=_serve, name=PROCESS_NAME.decode(), daemon=True,
                                    args=(ix.storage, ix.indexname, options, prepare, self._jobs, self._results,
                                          os.getpid()))
        self._process.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def add(self, fields: dict) -> None:
        """Write a document (``add_document``'s keyword arguments) into the new segment."""
        self._batch.append(fields)
        if len(self._batch) >= BATCH:
            self._send_batch()

    def close_input(self) -> None:
        """Send what is left and tell the process to finish its segment (it does so while
        the caller goes on); :meth:`segment` then waits for it."""
        if self._batch:
            self._send_batch()
        self._send(None)

    def _send_batch(self) -> None:
        self._send(pickle.dumps(self._batch, pickle.HIGHEST_PROTOCOL))
        self._batch = []

    def segment(self) -> tuple[Segment | None, SegmentParts | None]:
        """The finished segment and its share of the facet tables, or Nones if no document was sent.

        :raises OSError: as raised in the writer process (a full disk, permissions).
        :raises IndexWriteError: when the process failed otherwise or died.
        """
        outcome = self._outcome()
        self._process.join()
        return outcome

    def stop(self) -> None:
        """Terminate the process, whatever it was doing (the run failed or was interrupted)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        for q in (self._jobs, self._results):
            q.cancel_join_thread()  # what is still queued is dropped, not waited for
            q.close()

    def _send(self, message: bytes | None) -> None:
        while True:
            if not self._process.is_alive():
                self._outcome()  # raises the process's error
                raise IndexWriteError("the process writing the new segment stopped before it was finished")
            try:
                self._jobs.put(message, timeout=POLL)
                return
            except queue.Full:
                continue

    def _outcome(self) -> tuple[Segment | None, SegmentParts | None]:
        while True:
            try:
                kind, value = self._results.get(timeout=POLL)
                break
            except queue.Empty:
                if self._process.is_alive():
                    continue
                try:  # it may have put its outcome just before it ended
                    kind, value = self._results.get(timeout=POLL)
                    break
                except queue.Empty:
                    raise IndexWriteError(
                        f"the process writing the new segment died (exit code {self._process.exitcode}); "
                        "the index keeps its last complete commit") from None
        if kind == "segment":
            return value
        if kind == "oserror":
            raise OSError(*value)
        raise IndexWriteError(f"writing the new segment failed: {value}; the index keeps its last complete commit")


def _serve(storage, indexname: str, options: dict, prepare, jobs, results, parent: int) -> None:
    """The writer process: add every document sent until told to finish, then send the segment back."""
    become_helper(parent, PROCESS_NAME)  # a kill -9 of the run leaves no writer behind; Ctrl-C is the run's
    try:
        writer = PreparedSegmentWriter(storage.open_index(indexname), _lk=False, **options)
        while True:
            try:
                message = jobs.get(timeout=POLL)
            except queue.Empty:
                if os.getppid() != parent:  # the run was killed: nothing of this will be committed
                    return
                continue
            if message is None:
                break
            for fields in pickle.loads(message):
                if prepare is not None:
                    prepare(fields)
                writer.add_document(**fields)
        if writer._added:
            segment = writer._finalize_segment()
            # Its share of the facet tables, read here while the run waits anyway.
            reader = SegmentReader(storage, writer.schema, segment)
            try:
                parts = SegmentParts.read(reader)
            finally:
                reader.close()
            results.put(("segment", (segment, parts)))
        else:
            writer._close_segment()
            results.put(("segment", (None, None)))
    except OSError as exc:
        results.put(("oserror", (exc.errno, exc.strerror, exc.filename)))
    except BaseException as exc:  # reported to the run, which raises it
        results.put(("error", f"{type(exc).__name__}: {exc}"))


# The writer process's name in ps and top.
PROCESS_NAME = b"newsfacet-write"
