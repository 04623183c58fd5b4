"""The `opensearch` fixture: a real OpenSearch cluster for the tests of this folder.

- NEWSFACET_OPENSEARCH_URL set: that cluster (already running, e.g. started by
  CI with `python -m tests.opensearch.cluster start --dir DIR`) is used, and
  left running; tests that would harm it (killing a node) are skipped.
- otherwise, with java and mvn on PATH: a three-node cluster is built and
  started here (ports from NEWSFACET_OPENSEARCH_HTTP_BASE / _TRANSPORT_BASE,
  9201 and 9301 by default) and stopped at the end of the session.
- otherwise the tests are skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass

import pytest

from tests.opensearch import cluster as oscluster


def pytest_configure(config):
    # Registered here too, so that this folder runs before setup.cfg lists the marker.
    config.addinivalue_line("markers", "opensearch: needs a real OpenSearch cluster (tests/opensearch/cluster.py)")


@dataclass
class OpenSearch:
    url: str
    cluster: oscluster.Cluster | None  # None: not started by this session, so not ours to kill

    def request(self, method: str, path: str, body=None, timeout: float = 60.0, ndjson: bool = False):
        return oscluster.http_json(self.url + path, method, body, timeout=timeout, ndjson=ndjson)

    def expect(self, method: str, path: str, body=None, codes: tuple[int, ...] = (200,)):
        """The JSON answer of a request whose status must be one of *codes*."""
        code, answer = self.request(method, path, body)
        assert code in codes, f"HTTP {code}: {json.dumps(answer)[:2000]}"
        return answer

    def drop_prefix(self, prefix: str) -> None:
        """Delete every index and the template a test's collection *prefix* made."""
        listed = self.expect("GET", f"/_cat/indices/{prefix}-*?format=json", codes=(200, 404))
        for row in listed if isinstance(listed, list) else []:
            self.request("DELETE", f"/{row['index']}")
        self.request("DELETE", f"/_index_template/{prefix}-articles")


@pytest.fixture(scope="session")
def opensearch(tmp_path_factory):
    url = os.environ.get("NEWSFACET_OPENSEARCH_URL")
    if url:
        url = url.rstrip("/")
        try:
            code, body = oscluster.http_json(url + "/_cluster/health", timeout=10)
        except OSError as e:
            pytest.fail(f"NEWSFACET_OPENSEARCH_URL={url} does not answer: {e!r}")
        assert code == 200, f"NEWSFACET_OPENSEARCH_URL={url}: /_cluster/health answered {code} {body}"
        yield OpenSearch(url, None)
        return
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no OpenSearch: NEWSFACET_OPENSEARCH_URL is unset and {' and '.join(missing)} not on PATH")
    http_base = int(os.environ.get("NEWSFACET_OPENSEARCH_HTTP_BASE", "9201"))
    transport_base = int(os.environ.get("NEWSFACET_OPENSEARCH_TRANSPORT_BASE", "9301"))
    base_dir = tmp_path_factory.mktemp("opensearch")
    try:
        started = oscluster.start(3, base_dir, http_base, transport_base)
    except oscluster.ClusterError as e:
        pytest.fail(f"could not start the OpenSearch test cluster: {e}", pytrace=False)
    try:
        yield OpenSearch(started.url, started)
    finally:
        started.stop()
