"""Copying a collection from one engine to another without re-extracting it.

``newsfacet migrate --to opensearch`` moves an embedded Whoosh collection
onto a cluster when it outgrows one machine.  Indexing decided everything
once (cleaned text, resolved entities, copy clusters, dates); the copy
carries those decisions over as stored, with the state the incremental
indexer keeps beside the index, so that the next ``newsfacet index`` on the
new engine finds every unchanged file unchanged.  The target collection is
replaced as a ``--rebuild`` replaces it: searches read its old contents
until the copy is complete.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from .settings import Settings

# (source engine, target engine) pairs a migration knows how to copy.
MIGRATIONS = (("whoosh", "opensearch"),)


@dataclass
class MigrateReport:
    """What a migration read and wrote."""

    source_count: int  # articles in the source collection
    copied: int  # articles written to the target
    target_count: int  # articles in the target once the copy is visible
    seconds: float = 0.0

    def summary(self, source: str, target: str) -> str:
        same = "the same count on both sides" if self.source_count == self.target_count else (
            f"MISMATCH: {self.source_count - self.target_count:+,} articles")
        return (f"{self.copied:,} articles copied from {source} ({self.source_count:,}) to {target} "
                f"({self.target_count:,}): {same} ({self.seconds:.1f} s)")


def target_settings(settings: Settings, to: str) -> Settings:
    """*settings* with the backend *to*, for the collection a migration writes."""
    return dataclasses.replace(settings, backend=to)


def check_migration(source: str, target: str) -> None:
    """:raises ValueError: naming the migrations there are, when *source* → *target* is not one."""
    if (source, target) not in MIGRATIONS:
        valid = ", ".join(f"{a} to {b}" for a, b in MIGRATIONS)
        raise ValueError(f"newsfacet can migrate {valid}, not {source} to {target}")


def migrate(source: Settings, target: Settings, *, progress: bool = False, wait: float = 0.0) -> MigrateReport:
    """Copy the collection *source* names into the one *target* names, replacing its contents.

    :raises ValueError: for a pair of engines :data:`MIGRATIONS` does not list.
    :raises IndexNotFound: when the source has no index.
    :raises IndexLocked: when an indexing run writes to either side.
    :raises BackendUnavailable: when the cluster cannot be reached.
    :raises IndexWriteError: when the target does not take every article; it keeps its
        last complete commit.
    """
    check_migration(source.backend, target.backend)
    from .api import open_writer
    from .ingest import Progress
    from .opensearch_backend.copy import add_stored
    from .whoosh_backend.stored import read_collection

    started = time.perf_counter()
    shown = Progress(progress)
    with read_collection(source.index_dir) as collection:
        writer = open_writer(target, rebuild=True, wait=wait)
        copied = 0
        try:
            shown.start("Copying", collection.count, "articles")
            for stored in collection.articles:
                add_stored(writer, stored)
                copied += 1
                shown.update()
            with shown.phase(f"Committing {copied:,} articles"):
                writer.commit(copied)
            if collection.entity_state is not None:
                writer.save_entity_state(collection.entity_state)
            if collection.cluster_state is not None:
                writer.save_cluster_state(collection.cluster_state)
            writer.save_run_stamps(collection.run_stamps)
        except BaseException:
            writer.abort()
            raise
        finally:
            shown.close()
        target_count = writer.count()
    return MigrateReport(collection.count, copied, target_count, time.perf_counter() - started)
