"""What one search may cost: the caps on query expansion and its time budget.

A query's cost is bounded by design, not by luck: a server thread answers a
hostile query (twenty leading wildcards, a range over the whole body
vocabulary, hundreds of OR terms) about as fast as a normal one, or refuses
it with a message, and never holds a worker for more than the time budget.

The limits are read once, from defaults then environment variables:

==============================  ===============================  =======
limit                           environment variable             default
==============================  ===============================  =======
terms one wildcard expands to   ``NEWSFACET_MAX_EXPANSION``      512
terms all wildcards expand to   ``NEWSFACET_MAX_QUERY_EXPANSION`` 2048
words and wildcards in a query  ``NEWSFACET_MAX_QUERY_TERMS``    256
posting entries one query reads ``NEWSFACET_MAX_POSTINGS``       20,000,000
time budget of one search (s)   ``NEWSFACET_QUERY_TIMEOUT``      1.5
==============================  ===============================  =======
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, fields

from .errors import QueryTimeout

_ENV = {
    "max_expansion": "NEWSFACET_MAX_EXPANSION",
    "max_query_expansion": "NEWSFACET_MAX_QUERY_EXPANSION",
    "max_query_terms": "NEWSFACET_MAX_QUERY_TERMS",
    "max_postings": "NEWSFACET_MAX_POSTINGS",
    "timeout": "NEWSFACET_QUERY_TIMEOUT",
}


@dataclass(frozen=True)
class QueryLimits:
    """Caps on one search.  See the module docstring for their meaning and defaults."""

    max_expansion: int = 512
    max_query_expansion: int = 2048
    max_query_terms: int = 256
    max_postings: int = 20_000_000
    timeout: float = 1.5

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"{_ENV[f.name]} must be a positive number, not {getattr(self, f.name)!r}")

    @classmethod
    def from_env(cls, environ: dict | None = None) -> QueryLimits:
        """The defaults, overridden by whichever ``NEWSFACET_*`` variables are set."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(_ENV[f.name])
            if raw in (None, ""):
                continue
            try:
                values[f.name] = float(raw) if f.type in ("float", float) else int(raw)
            except ValueError:
                raise ValueError(f"{_ENV[f.name]} must be a number, not {raw!r}") from None
        return cls(**values)


class Deadline:
    """The moment a search must stop by; :meth:`check` raises :class:`QueryTimeout` past it."""

    __slots__ = ("budget", "ends")

    def __init__(self, budget: float):
        self.budget = budget
        self.ends = time.perf_counter() + budget

    def check(self) -> None:
        if time.perf_counter() > self.ends:
            raise QueryTimeout(
                f"The search was stopped after its time budget of {self.budget:g} s. "
                "Narrow it: fewer wildcards, fewer OR terms, or a filter."
            )

    def remaining(self) -> float:
        return self.ends - time.perf_counter()


NO_DEADLINE = Deadline(float("inf"))

__all__ = ["NO_DEADLINE", "Deadline", "QueryLimits"]
