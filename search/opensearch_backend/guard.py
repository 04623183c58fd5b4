"""The cluster's failures as newsfacet's errors, for every call of the OpenSearch read side.

* cannot connect, credentials refused: :class:`~search.errors.BackendUnavailable`
  (:func:`.client.translate_errors`, with the address and what to check);
* the client's request timed out: :class:`~search.errors.QueryTimeout`;
* the collection's index is gone: :class:`~search.errors.IndexNotFound`;
* the cluster refused the query (too many clauses, say): :class:`~search.errors.InvalidParameter`
  on ``q``, as the Whoosh backend refuses a query it will not run.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from ..errors import IndexNotFound, InvalidParameter, QueryTimeout
from .client import translate_errors


@contextlib.contextmanager
def translated(backend) -> Iterator[None]:
    """Run the body with *backend*'s cluster failures as newsfacet's errors."""
    from opensearchpy.exceptions import ConnectionTimeout, NotFoundError, RequestError

    try:
        with translate_errors(backend.settings):
            yield
    except ConnectionTimeout:
        raise QueryTimeout("OpenSearch did not answer in time; try again in a moment.") from None
    except NotFoundError as exc:
        if "index_not_found" in str(exc.error):
            raise IndexNotFound(backend._missing()) from None
        raise
    except RequestError as exc:
        raise InvalidParameter("q", f"OpenSearch refused the query: {_reason(exc)}") from None


def guarded(method):
    """*method* run under :func:`translated`."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with translated(self):
            return method(self, *args, **kwargs)

    return run


def _reason(exc) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error")
    if isinstance(error, dict):
        causes = error.get("root_cause") or []
        first = causes[0] if causes and isinstance(causes[0], dict) else error
        return str(first.get("reason") or first.get("type") or exc.error)
    return str(exc.error)


__all__ = ["guarded", "translated"]
