"""The one options object passed down the ingest chain.

Like trafilatura's ``Extractor``, every stage (reader, cleaner, extractors)
receives the same :class:`Options` and reads only the knobs it needs, so a
caller configures a run in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """Settings for one ingest run.

    :param reference_date: the day the collection was scraped, used to resolve
        dates written without a year; ``None`` means "each file's sidecar crawl
        date, else its modification time".
    :param aliases_path: a user alias file (see README, "Alias file"); the
        shipped defaults always apply underneath it.
    :param repeat_min_docs: a short line seen in at least this many documents
        of one group (folder or site) is boilerplate.
    :param repeat_max_words: lines longer than this are never judged by
        repetition alone.  Shorter lines that read as sentences must recur on
        at least 30% of a group's distinct stories (and three of them), and
        syndicated copies of one story count once, so real paragraphs survive.
    :param html_extractor: ``"trafilatura"`` (default) or ``"soup"``.
    :param follow_symlinks: follow a symbolic link found while walking a folder
        when it resolves to somewhere inside that folder; links pointing
        outside it are never followed.  Off by default: every link found is
        reported and skipped, so a collection cannot pull in system files.
    """

    reference_date: dt.date | None = None
    aliases_path: Path | None = None
    repeat_min_docs: int = 2
    repeat_max_words: int = 30
    html_extractor: str = "trafilatura"
    follow_symlinks: bool = False
    extensions: tuple[str, ...] = field(
        default=(".txt", ".text", ".html", ".htm", ".html.gz", ".htm.gz", ".jsonl", ".jsonl.gz", ".sgm", ".sgm.gz")
    )

    def __post_init__(self) -> None:
        valid = ("trafilatura", "soup")
        if self.html_extractor not in valid:
            raise ValueError(f"html_extractor must be one of {', '.join(valid)}, not {self.html_extractor!r}")
        if self.repeat_min_docs < 2:
            raise ValueError("repeat_min_docs must be at least 2")
