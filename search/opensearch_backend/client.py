"""The connection to an OpenSearch cluster: an ``opensearch-py`` client built from
:class:`search.settings.Settings`, and the mapping of its failures to newsfacet's errors.

* Credentials come from the settings only (``NEWSFACET_OPENSEARCH_USER`` and
  ``_PASSWORD`` as HTTP basic auth, or ``NEWSFACET_OPENSEARCH_API_KEY`` sent as
  ``Authorization: ApiKey …``); none is ever put in a message.
* TLS certificates are checked against the system's and certifi's roots unless
  ``NEWSFACET_OPENSEARCH_VERIFY_CERTS=false``.
* Every request has a timeout; the client retries a request that timed out or
  answered 502/503/504 on another node (a node restarting or failing over)
  before giving up.  The bulk loop of :mod:`.writer` adds its own retries with
  back-off for 429 (the cluster pushing back) and for single items.
* :func:`translate_errors` turns "cannot connect", "timed out" and "credentials
  refused" into :class:`~search.errors.BackendUnavailable`, with the address
  and what to check, so the CLI prints one line instead of a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..errors import BackendUnavailable

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from ..settings import Settings

# Seconds for one request: long enough for a large bulk or a refresh on a busy cluster.
REQUEST_TIMEOUT = 120.0
# Whole-request retries by the client (timeouts, 502/503/504), each on the next node.
MAX_RETRIES = 3
RETRY_STATUSES = (502, 503, 504)


def make_client(settings: Settings, timeout: float = REQUEST_TIMEOUT) -> OpenSearch:
    """A client for the cluster *settings* name (nothing is sent until the first call)."""
    from opensearchpy import OpenSearch

    kwargs: dict = {
        "hosts": [settings.opensearch_url],
        "timeout": timeout,
        "max_retries": MAX_RETRIES,
        "retry_on_timeout": True,
        "retry_on_status": RETRY_STATUSES,
        "verify_certs": settings.opensearch_verify,
        # Unverified TLS was asked for explicitly: no warning on every request.
        "ssl_show_warn": settings.opensearch_verify,
    }
    if settings.opensearch_user is not None:
        kwargs["http_auth"] = (settings.opensearch_user, settings.opensearch_password or "")
    elif settings.opensearch_api_key is not None:
        kwargs["headers"] = {"Authorization": f"ApiKey {settings.opensearch_api_key}"}
    return OpenSearch(**kwargs)


@contextlib.contextmanager
def translate_errors(settings: Settings) -> Iterator[None]:
    """Raise :class:`BackendUnavailable` for a cluster that cannot be reached or refuses us."""
    from opensearchpy.exceptions import AuthenticationException, AuthorizationException, ConnectionError

    url = settings.opensearch_url
    try:
        yield
    except AuthenticationException:
        raise BackendUnavailable(
            f"OpenSearch at {url} refused the credentials: check NEWSFACET_OPENSEARCH_USER and "
            "NEWSFACET_OPENSEARCH_PASSWORD (or NEWSFACET_OPENSEARCH_API_KEY)") from None
    except AuthorizationException as exc:
        raise BackendUnavailable(
            f"OpenSearch at {url} does not allow this user to do that ({_reason(exc)}): the user needs "
            f"read and write rights on the indexes {settings.opensearch_prefix}-*") from None
    except ConnectionError as exc:  # connection refused, TLS failure, timeout (after the retries)
        cause = exc.info if isinstance(exc.info, Exception) else exc
        raise BackendUnavailable(
            f"cannot reach OpenSearch at {url}: {type(cause).__name__}: {_short(cause)}. Check "
            "NEWSFACET_OPENSEARCH_URL (or --opensearch-url) and that the cluster is up") from None


def _reason(exc) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error")
    if isinstance(error, dict):
        return str(error.get("reason") or error.get("type") or exc.error)
    return str(error or exc.error)


def _short(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
