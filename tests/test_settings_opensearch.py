"""The OpenSearch settings: read once from the environment, flags over them, bad values refused by name."""

from __future__ import annotations

import pytest

from search.settings import BACKENDS, Settings


def test_defaults_point_at_a_local_cluster_with_tls_checks_on():
    s = Settings.from_env({})
    assert (s.opensearch_url, s.opensearch_prefix, s.opensearch_verify) == ("http://127.0.0.1:9200", "newsfacet", True)
    assert (s.opensearch_shards, s.opensearch_replicas) == (3, 1)
    assert s.opensearch_user is s.opensearch_password is s.opensearch_api_key is None
    assert "opensearch" in BACKENDS


def test_environment_then_flags():
    env = {
        "NEWSFACET_BACKEND": "opensearch",
        "NEWSFACET_OPENSEARCH_URL": "https://search.example.org:9243",
        "NEWSFACET_OPENSEARCH_PREFIX": "news_2024",
        "NEWSFACET_OPENSEARCH_USER": "indexer",
        "NEWSFACET_OPENSEARCH_PASSWORD": "s3cret",
        "NEWSFACET_OPENSEARCH_VERIFY_CERTS": "false",
        "NEWSFACET_OPENSEARCH_SHARDS": "12",
        "NEWSFACET_OPENSEARCH_REPLICAS": "0",
    }
    s = Settings.from_env(env)
    assert s.backend == "opensearch"
    assert (s.opensearch_url, s.opensearch_prefix, s.opensearch_user) == (
        "https://search.example.org:9243", "news_2024", "indexer")
    assert (s.opensearch_verify, s.opensearch_shards, s.opensearch_replicas) == (False, 12, 0)
    # The secret never shows in a repr (logs, tracebacks).
    assert "s3cret" not in repr(s)
    flagged = Settings.from_env(env, backend="whoosh", opensearch_url="http://10.0.0.5:9200")
    assert (flagged.backend, flagged.opensearch_url) == ("whoosh", "http://10.0.0.5:9200")


@pytest.mark.parametrize("word, value", [("1", True), ("yes", True), ("On", True), ("0", False), ("no", False)])
def test_verify_certs_words(word, value):
    assert Settings.from_env({"NEWSFACET_OPENSEARCH_VERIFY_CERTS": word}).opensearch_verify is value


@pytest.mark.parametrize("env, says", [
    ({"NEWSFACET_BACKEND": "elastic"}, "whoosh, opensearch"),
    ({"NEWSFACET_OPENSEARCH_URL": "127.0.0.1:9200"}, "http:// or https://"),
    ({"NEWSFACET_OPENSEARCH_URL": "ftp://host"}, "NEWSFACET_OPENSEARCH_URL"),
    ({"NEWSFACET_OPENSEARCH_URL": "http://host:70000"}, "invalid port"),
    ({"NEWSFACET_OPENSEARCH_PREFIX": "News"}, "lower-case letters, digits, - and _"),
    ({"NEWSFACET_OPENSEARCH_PREFIX": "-news"}, "NEWSFACET_OPENSEARCH_PREFIX"),
    ({"NEWSFACET_OPENSEARCH_PREFIX": "a*"}, "NEWSFACET_OPENSEARCH_PREFIX"),
    ({"NEWSFACET_OPENSEARCH_SHARDS": "0"}, "NEWSFACET_OPENSEARCH_SHARDS must be at least 1"),
    ({"NEWSFACET_OPENSEARCH_SHARDS": "three"}, "whole number"),
    ({"NEWSFACET_OPENSEARCH_REPLICAS": "-1"}, "NEWSFACET_OPENSEARCH_REPLICAS must be 0 or more"),
    ({"NEWSFACET_OPENSEARCH_VERIFY_CERTS": "maybe"}, "true, yes, on, 0, false, no, off"),
    ({"NEWSFACET_OPENSEARCH_USER": "u"}, "set both or neither"),
    ({"NEWSFACET_OPENSEARCH_PASSWORD": "p"}, "set both or neither"),
    ({"NEWSFACET_OPENSEARCH_USER": "u", "NEWSFACET_OPENSEARCH_PASSWORD": "p",
      "NEWSFACET_OPENSEARCH_API_KEY": "k"}, "not both"),
])
def test_bad_values_are_refused_naming_the_valid_ones(env, says):
    with pytest.raises(ValueError, match=says.replace("*", r"\*")):
        Settings.from_env(env)


def test_bad_flag_value_is_refused_too():
    with pytest.raises(ValueError, match="NEWSFACET_OPENSEARCH_URL"):
        Settings.from_env({}, opensearch_url="localhost")
