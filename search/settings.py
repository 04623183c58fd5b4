"""Configuration: :class:`Settings`, read once for a whole process, and the
:class:`Options` of one ingest run.

Like trafilatura's ``Extractor``, every ingest stage (reader, cleaner,
extractors) receives the same :class:`Options` and reads only the knobs it
needs, so a caller configures a run in one place.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .limits import QueryLimits
from .model import DEFAULT_FACET_LIMIT, DEFAULT_PER_PAGE


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
    :param ner: entity spans from ``"rules"``, ``"spacy"`` (the ``ner`` extra) or
        ``"auto"`` (spaCy when installed); see :mod:`search.extract.statistical`.
    """

    reference_date: dt.date | None = None
    aliases_path: Path | None = None
    repeat_min_docs: int = 2
    repeat_max_words: int = 30
    html_extractor: str = "trafilatura"
    follow_symlinks: bool = False
    ner: str = "auto"
    extensions: tuple[str, ...] = field(
        default=(".txt", ".text", ".html", ".htm", ".html.gz", ".htm.gz", ".jsonl", ".jsonl.gz", ".sgm", ".sgm.gz")
    )

    def __post_init__(self) -> None:
        valid = ("trafilatura", "soup")
        if self.html_extractor not in valid:
            raise ValueError(f"html_extractor must be one of {', '.join(valid)}, not {self.html_extractor!r}")
        if self.ner not in NER_MODES:
            raise ValueError(f"NEWSFACET_NER must be one of {', '.join(NER_MODES)}, not {self.ner!r}")
        if self.ner == "spacy":
            from .extract.statistical import check

            check(self.ner)
        if self.repeat_min_docs < 2:
            raise ValueError("repeat_min_docs must be at least 2")


BACKENDS = ("whoosh", "opensearch")
# Entity spans: the rules alone, the spaCy pipeline of the "ner" extra, or auto (spaCy when installed).
NER_MODES = ("auto", "rules", "spacy")


@dataclass(frozen=True)
class Settings:
    """Everything newsfacet is configured with, read once: defaults, then
    ``NEWSFACET_*`` environment variables, then command-line flags.

    Both the web factory and the CLI build one with :meth:`from_env` and pass
    it down; nothing else reads the environment for these.  The web-only
    entries (secret key, saved-search store, hosts, admin token) are plain
    values here; :mod:`web` gives them meaning.
    """

    index_dir: Path = Path("index")
    backend: str = "whoosh"
    aliases: Path | None = None
    per_page: int = DEFAULT_PER_PAGE
    facet_limit: int = DEFAULT_FACET_LIMIT
    limits: QueryLimits = field(default_factory=QueryLimits)
    secret_key: str | None = None
    saved_db: Path | None = None
    instance: Path | None = None
    base_url: str | None = None
    allowed_hosts: str = "127.0.0.1,localhost"
    admin_token: str | None = None
    max_saved: int = 500
    ner: str = "auto"
    # The OpenSearch backend (``backend="opensearch"``): the cluster, the prefix of
    # every index name newsfacet makes there, credentials (user and password, or an
    # API key, never both), TLS certificate checks, and the article index's sizing.
    opensearch_url: str = "http://127.0.0.1:9200"
    opensearch_prefix: str = "newsfacet"
    opensearch_user: str | None = None
    opensearch_password: str | None = field(default=None, repr=False)  # kept out of logs and tracebacks
    opensearch_api_key: str | None = field(default=None, repr=False)
    opensearch_verify: bool = True
    opensearch_shards: int = 3
    opensearch_replicas: int = 1

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"the backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        _check_opensearch(self)
        Options(ner=self.ner)  # NEWSFACET_NER is checked when read, whatever the command
        for name in ("per_page", "facet_limit", "max_saved"):
            if getattr(self, name) < 1:
                raise ValueError(f"{_ENV[name]} must be at least 1, not {getattr(self, name)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **flags) -> Settings:
        """Defaults, overridden by the environment, overridden by *flags* (None flags are not given)."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for name, var in _ENV.items():
            raw = env.get(var)
            if raw in (None, ""):
                continue
            if name in _BOOLS:
                values[name] = _parse_bool(var, raw)
            elif name in _INTS:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"{var} must be a whole number, not {raw!r}") from None
            elif name in _PATHS:
                values[name] = Path(raw)
            else:
                values[name] = raw
        values["limits"] = QueryLimits.from_env(env)
        for name, value in flags.items():
            if value is not None:
                values[name] = Path(value) if name in _PATHS else value
        return cls(**values)

    def options(self, **changes) -> Options:
        """The ingest :class:`Options` these settings give (the alias file), with *changes*."""
        return Options(aliases_path=self.aliases, ner=self.ner, **changes)


_ENV = {
    "index_dir": "NEWSFACET_INDEX",
    "backend": "NEWSFACET_BACKEND",
    "aliases": "NEWSFACET_ALIASES",
    "per_page": "NEWSFACET_PER_PAGE",
    "facet_limit": "NEWSFACET_FACET_LIMIT",
    "secret_key": "NEWSFACET_SECRET_KEY",
    "saved_db": "NEWSFACET_SAVED_DB",
    "instance": "NEWSFACET_INSTANCE",
    "base_url": "NEWSFACET_BASE_URL",
    "allowed_hosts": "NEWSFACET_ALLOWED_HOSTS",
    "admin_token": "NEWSFACET_ADMIN_TOKEN",
    "max_saved": "NEWSFACET_MAX_SAVED",
    "ner": "NEWSFACET_NER",
    "opensearch_url": "NEWSFACET_OPENSEARCH_URL",
    "opensearch_prefix": "NEWSFACET_OPENSEARCH_PREFIX",
    "opensearch_user": "NEWSFACET_OPENSEARCH_USER",
    "opensearch_password": "NEWSFACET_OPENSEARCH_PASSWORD",
    "opensearch_api_key": "NEWSFACET_OPENSEARCH_API_KEY",
    "opensearch_verify": "NEWSFACET_OPENSEARCH_VERIFY_CERTS",
    "opensearch_shards": "NEWSFACET_OPENSEARCH_SHARDS",
    "opensearch_replicas": "NEWSFACET_OPENSEARCH_REPLICAS",
}
_INTS = ("per_page", "facet_limit", "max_saved", "opensearch_shards", "opensearch_replicas")
_BOOLS = ("opensearch_verify",)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
# OpenSearch index names: lower case, no \ / * ? " < > | , # : or space, not starting
# with - _ +.  The prefix is kept to letters, digits, - and _ so every name made from
# it ("{prefix}-articles-{time}", "{prefix}-meta") is valid and no wildcard matches more.
_PREFIX = re.compile(r"[a-z0-9][a-z0-9_-]{0,199}")
URL_SCHEMES = ("http", "https")


def _parse_bool(var: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{var} must be one of {', '.join(_TRUE + _FALSE)}, not {raw!r}")


def _check_opensearch(settings: Settings) -> None:
    """The OpenSearch settings' domains (checked whatever the backend, as NEWSFACET_NER is:
    a typo is reported when it is read, not when the backend is first switched on)."""
    url = urlsplit(settings.opensearch_url)
    if url.scheme not in URL_SCHEMES or not url.hostname:
        raise ValueError(f"{_ENV['opensearch_url']} must be an http:// or https:// address with a host, "
                         f"not {settings.opensearch_url!r}")
    try:
        url.port  # noqa: B018 -- urlsplit checks the port only when it is read
    except ValueError:
        raise ValueError(f"{_ENV['opensearch_url']} has an invalid port: {settings.opensearch_url!r}") from None
    if not _PREFIX.fullmatch(settings.opensearch_prefix):
        raise ValueError(f"{_ENV['opensearch_prefix']} must be lower-case letters, digits, - and _ "
                         f"(starting with a letter or digit, at most 200), not {settings.opensearch_prefix!r}")
    if settings.opensearch_shards < 1:
        raise ValueError(f"{_ENV['opensearch_shards']} must be at least 1, not {settings.opensearch_shards}")
    if settings.opensearch_replicas < 0:
        raise ValueError(f"{_ENV['opensearch_replicas']} must be 0 or more, not {settings.opensearch_replicas}")
    if (settings.opensearch_user is None) != (settings.opensearch_password is None):
        raise ValueError(f"{_ENV['opensearch_user']} and {_ENV['opensearch_password']} go together: "
                         "set both or neither")
    if settings.opensearch_api_key is not None and settings.opensearch_user is not None:
        raise ValueError(f"set either {_ENV['opensearch_api_key']} or {_ENV['opensearch_user']} and "
                         f"{_ENV['opensearch_password']}, not both")
    if not isinstance(settings.opensearch_verify, bool):
        raise ValueError(f"{_ENV['opensearch_verify']} must be true or false, not {settings.opensearch_verify!r}")
_PATHS = ("index_dir", "aliases", "saved_db", "instance")
