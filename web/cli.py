"""The ``newsfacet`` command line.

It lives in ``web`` — the top floor — because ``serve`` needs the Flask app,
while every other command only calls the ``search`` library.

Commands: ``index``, ``search``, ``facets``, ``clean``, ``entities``, ``check``, ``migrate``, ``serve``.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import sys

from search import api
from search.api import SearchError, Settings

DEFAULT_INDEX = "index"
# serve --workers: one process unless asked (see the flag's help and README, "Command line").
DEFAULT_WORKERS = 1
_BOLD, _RESET = "\033[1m", "\033[0m"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 article``, ``2 articles``: a count with its noun, singular only for one."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _settings(args) -> Settings:
    """The settings of this run: defaults, then the environment, then this command's flags."""
    return Settings.from_env(index_dir=args.index, aliases=getattr(args, "aliases", None),
                             backend=getattr(args, "backend", None),
                             opensearch_url=getattr(args, "opensearch_url", None))


# -- index ---------------------------------------------------------------------


def _build(args, paths, **kwargs) -> None:
    """Index *paths* as ``index`` and ``serve --build`` do; skipped files go to stderr,
    a few lines per file and reason, and the summary to stdout."""
    settings = _settings(args)
    skipped = api.skip_printer(lambda line: print(line, file=sys.stderr))
    try:
        report = api.build_index(paths, settings, settings.options(follow_symlinks=args.follow_symlinks),
                                 on_failure=skipped, **kwargs)
    finally:
        skipped.finish()  # what was counted is still said when the run stops on an error
    print(report.summary())


def cmd_index(args) -> int:
    # A bar on a terminal (stderr), none in a pipe or a log unless --progress asks for it.
    progress = False if args.quiet else True if args.progress else None
    _build(args, args.paths, rebuild=args.rebuild, progress=progress, procs=args.procs, wait=args.wait)
    return 0


# -- search --------------------------------------------------------------------


def _request(args, settings: Settings) -> api.SearchRequest:
    """The search the flags ask for, read by the same mapping as the web's URL parameters."""
    params = {"q": " ".join(args.query), "entity": args.entity or [], "entity_any": args.entity_any or [],
              "entity_not": args.entity_not or [], "date": args.date, "from": args.date_from,
              "to": args.date_to, "cluster": args.cluster, "collapse": "off" if args.all_copies else None,
              "sort": args.sort, "page": args.page, "per_page": args.per_page, "facet_limit": args.facet_limit}
    return api.request_from_params({k: v for k, v in params.items() if v is not None}, settings.per_page,
                                   settings.facet_limit)


def _terminal_snippet(snippet: str, color: bool) -> str:
    on, off = (_BOLD, _RESET) if color else ("[", "]")
    return html.unescape(re.sub(r"</?mark>", lambda m: off if m.group(0)[1] == "/" else on, snippet))


# How an entity value is filtered on: --entity (required), --entity-any, --entity-not.
_FACET_MARKS = {"all": "*", "any": "+", "not": "-"}
_FACET_LEGEND = (("*", "required"), ("+", "any of"), ("-", "excluded"))


def cmd_search(args) -> int:
    date_label = api.date_label
    settings = _settings(args)
    service = api.open_backend(settings)
    try:
        result = service.search(_request(args, settings))
    finally:
        service.close()
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return 0
    color = sys.stdout.isatty()
    if result.notice:
        print(f"note: {result.notice}")
    req = result.request
    first = (req.page - 1) * req.per_page + 1
    shown = f"{first}-{first + len(result.hits) - 1} of " if result.hits else ""
    if result.copies > result.total:
        found = f"{plural(result.total, 'story', 'stories')} ({plural(result.copies, 'article')} with their copies, "
    else:
        found = f"{plural(result.total, 'article')} ("
    print(f"{shown}{found}{result.elapsed_ms:.0f} ms)")
    if result.suggestion:
        print(f"did you mean: {result.suggestion}")
    for hit in result.hits:
        print()
        print(f"{hit.title}")
        meta = [date_label(hit.date), hit.source or "", hit.path]
        print("  " + " · ".join(m for m in meta if m))
        print("  " + _terminal_snippet(hit.snippet, color))
        if hit.cluster.get("size", 1) > 1 and req.collapse == "on":
            others = hit.cluster["size"] - 1
            print(f"  also in {plural(others, 'other copy', 'other copies')}: "
                  f"newsfacet search --cluster {hit.cluster['id']} --all-copies")
    facets = result.facets
    if facets["entity"]:
        marks = [_FACET_MARKS["all"] if f["selected"] else _FACET_MARKS.get(f.get("mode"), " ")
                 for f in facets["entity"]]
        legend = ", ".join(f"{m} {what}" for m, what in _FACET_LEGEND if m in marks)
        print(f"\nentities ({legend}):" if legend else "\nentities:")
        for mark, f in zip(marks, facets["entity"], strict=True):
            print(f" {mark} {f['value']} ({f['type']}) {f['count']}")
    if facets["date"]:
        print("\ndates:")
        for f in facets["date"]:
            print(f"   {date_label(f['value'])} {f['count']}")
    return 0


# -- facets ----------------------------------------------------------------------


def cmd_facets(args) -> int:
    settings = _settings(args)
    params = {"q": args.q or "", "entity": args.entity or [], "entity_any": args.entity_any or [],
              "entity_not": args.entity_not or [], "date": args.date, "from": args.date_from, "to": args.date_to,
              "cluster": args.cluster, "collapse": "off" if args.all_copies else None,
              "contains": args.contains, "sort": args.sort, "page": args.page}
    kwargs = {"page_size": args.per_page} if args.per_page is not None else {}
    req = api.facet_values_request_from_params(args.type, {k: v for k, v in params.items() if v is not None},
                                               settings.per_page, settings.facet_limit, **kwargs)
    service = api.open_backend(settings)
    try:
        page = service.facet_values(req)
    finally:
        service.close()
    if args.json:
        print(json.dumps(page.as_dict(), ensure_ascii=False, indent=2))
        return 0
    first = (req.page - 1) * req.per_page + 1
    shown = f"{first}-{first + len(page.values) - 1} of " if page.values else ""
    what = f" containing {req.contains!r}" if req.contains else ""
    print(f"{shown}{plural(page.total_values, f'{req.type} value')}{what}, by {req.sort}")
    if not page.values and page.total_values:
        last = -(-page.total_values // req.per_page)
        print(f"page {req.page} is past the end; the last is --page {last}")
    marks = [_FACET_MARKS["all"] if v["selected"] else _FACET_MARKS.get(v.get("mode"), " ") for v in page.values]
    width = max((len(str(v["count"])) for v in page.values), default=1)
    for mark, v in zip(marks, page.values, strict=True):
        print(f" {mark} {v['count']:>{width}}  {v['value']}")
    legend = ", ".join(f"{m} {what}" for m, what in _FACET_LEGEND if m in marks)
    if legend:
        print(f"({legend})")
    return 0


# -- clean -----------------------------------------------------------------------


def cmd_clean(args) -> int:
    # The folder is the evidence a real run would have: lines repeated on
    # sibling pages are boilerplate there, so they are here too (unless --no-context).
    status = 0
    for path, *found in api.clean_files(args.files, _settings(args).options(), context=not args.no_context):
        if len(found) == 1:
            reason = found[0]
            print(f"{path}: {reason}" if reason.startswith("no such ") else f"{path}: skipped: {reason}",
                  file=sys.stderr)
            status = 1
            continue
        _print_clean(path, *found, args.json)
    return status


def _print_clean(path: str, article, cleaned, as_json: bool) -> None:
    entities = article.entities  # resolved with the alias file, as indexing would
    if as_json:
        print(
            json.dumps(
                {
                    "path": path,
                    "title": article.title,
                    "title_evidence": cleaned.title_evidence,
                    "date": article.date.iso(),
                    "date_precision": article.date.precision,
                    "date_evidence": article.date.evidence,
                    "source": article.source,
                    "url": article.url,
                    "dateline": article.dateline,
                    "captions": article.captions,
                    "entities": [
                        {"value": e.value, "type": e.type, "spellings": sorted(e.spellings), "count": e.count}
                        for e in entities
                    ],
                    "body": article.body,
                    "dropped": [{"line": d.line, "reason": d.reason} for d in article.dropped],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    print(f"== {path}")
    print(f"title:    {article.title}   [{cleaned.title_evidence}]")
    print(f"date:     {article.date.iso() or 'undated'} (precision {article.date.precision}; {article.date.evidence})")
    if article.source:
        print(f"source:   {article.source}")
    if article.dateline:
        print(f"dateline: {article.dateline}")
    for caption in article.captions:
        print(f"caption:  {caption}")
    print("entities:")
    for e in sorted(entities, key=lambda e: (e.type, e.value)):
        extra = sorted(e.spellings - {e.value})
        print(f"  {e.type:7} {e.value}" + (f"   (also: {', '.join(extra)})" if extra else ""))
    print("body:")
    for para in article.body.split("\n\n"):
        print(f"  {para}")
    print("dropped:")
    for d in article.dropped:
        print(f"  - {d.line!r}: {d.reason}")
    print()


# -- entities --------------------------------------------------------------------


def cmd_entities(args) -> int:
    service = api.open_backend(_settings(args))
    try:
        rows = service.entities(args.type)
    finally:
        service.close()
    if args.min_count:
        rows = [r for r in rows if r.count >= args.min_count]
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        merged = [s for s in r.spellings if s != r.value]
        print(f"{r.count:6}  {r.type:7} {r.value}" + (f"   <- {' | '.join(merged)}" if merged else ""))
    return 0


# -- check -------------------------------------------------------------------------


def cmd_check(args) -> int:
    report = api.check_index(_settings(args), deep=not args.quick)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def cmd_migrate(args) -> int:
    source = Settings.from_env(index_dir=args.index, backend=args.from_engine,
                               opensearch_url=getattr(args, "opensearch_url", None))
    progress = False if args.quiet else None
    report = api.migrate(source, args.to, progress=progress, wait=args.wait)
    where = source.index_dir if source.backend == "whoosh" else source.backend
    print(report.summary(f"{source.backend} ({where})", args.to))
    return 0 if report.source_count == report.target_count else 1


# -- serve -------------------------------------------------------------------------


def cmd_serve(args) -> int:
    for flag, value in (("--threads", args.threads), ("--connection-limit", args.connection_limit),
                        ("--channel-timeout", args.channel_timeout), ("--workers", args.workers)):
        if value < 1:
            raise ValueError(f"{flag} must be at least 1, not {value}")
    if args.workers > 1 and not hasattr(os, "fork"):
        raise ValueError("--workers above 1 needs a system with fork(); use --workers 1")
    settings = _settings(args)
    index_dir = settings.index_dir
    if args.build:
        _build(args, args.build)
    if not api.index_exists(settings):
        raise SearchError(f"no index in {index_dir}: run 'newsfacet index FOLDER' or pass --build FOLDER")
    from web import create_app
    from web.security import WILDCARD_HOSTS, allowed_hosts

    # The app needs to know where it listens: a non-loopback address is trusted as a
    # Host name and makes saved searches read-only unless an admin token is set.
    app = create_app({"LISTEN_HOST": args.host}, settings=settings)
    if args.host in WILDCARD_HOSTS:
        print("newsfacet: listening on every interface, but answering only requests for "
              f"{', '.join(allowed_hosts(app))}; set NEWSFACET_ALLOWED_HOSTS (or NEWSFACET_BASE_URL) "
              "to the names and addresses people will use", file=sys.stderr)
    if app.config["PUBLIC"] and not app.config["ADMIN_TOKEN"]:
        print("newsfacet: saved searches are read-only for this public address; set NEWSFACET_ADMIN_TOKEN "
              "to allow changes", file=sys.stderr)
    # Every open connection is a file descriptor: make room for the limit if the hard limit allows.
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.connection_limit + 256  # index files, the saved-search database, the listener
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        except (ValueError, OSError):
            raised = soft
        if raised < wanted:
            print(f"newsfacet: only {raised} open files allowed; --connection-limit {args.connection_limit} "
                  "may not be reached", file=sys.stderr)
    options = {
        "threads": args.threads, "ident": "newsfacet",
        "connection_limit": args.connection_limit, "channel_timeout": args.channel_timeout,
        # Idle connections are looked for every this many seconds, so one lives at most
        # channel_timeout plus this.
        "cleanup_interval": max(1, min(30, args.channel_timeout // 2)),
        # select() cannot watch descriptors past 1024; poll() has no such limit.
        "asyncore_use_poll": True,
    }
    if args.workers == 1:
        from waitress import serve

        print(f"newsfacet: serving {index_dir} at http://{args.host}:{args.port}/", flush=True)
        serve(app, host=args.host, port=args.port, **options)
        return 0
    return _serve_workers(args, settings, app, options)


def _serve_workers(args, settings: Settings, probe, options: dict) -> int:
    """``serve --workers N`` (N > 1): the pre-fork server of :mod:`web.serving`.

    *probe* is an app made here, in the parent, only to settle what every worker
    must share: the secret key that signs sessions and CSRF tokens (made once in
    the instance folder unless NEWSFACET_SECRET_KEY gives it) and the
    saved-search database, created (in WAL mode) before two workers could race
    to create it.  It is dropped before the fork; each worker builds its own app.
    """
    import sqlite3

    from web import create_app, saved
    from web.serving import serve_prefork

    shared = {"LISTEN_HOST": args.host, "SECRET_KEY": probe.config["SECRET_KEY"],
              "SAVED_DB": probe.config["SAVED_DB"]}
    try:
        with probe.app_context():
            saved.get_db()  # closed again when the context ends
    except sqlite3.Error:
        pass  # each worker reports it per request (503 on the saved-search pages), as one process does
    del probe

    def announce(port: int) -> None:
        print(f"newsfacet: serving {settings.index_dir} at http://{args.host}:{port}/ "
              f"with {args.workers} worker processes", flush=True)

    def make_app():
        return _warmed(create_app(dict(shared), settings=settings))

    return serve_prefork(make_app, args.host, args.port, args.workers, options, on_listening=announce)


# Asked of a worker's app before it takes connections: the browse loads the index's facet
# arrays (0.5 s on Reuters, seconds under load), the page compiles the templates.
_WARM_PATHS = ("/api/search?per_page=1", "/search")


def _warmed(app):
    """*app* after answering :data:`_WARM_PATHS` itself, so that no client waits for its cold start.

    With several workers on one socket a worker not yet accepting costs nobody
    anything (the others answer), while the first requests it would take cold
    queue behind that load: a new or replaced worker warms first.
    """
    from web.security import allowed_hosts

    hosts = allowed_hosts(app)
    client = app.test_client()
    for path in _WARM_PATHS:
        try:
            client.get(path, headers={"Host": hosts[0]} if hosts else {})
        except Exception as exc:  # noqa: BLE001 - a request will say what is wrong; serve anyway
            logging.getLogger("newsfacet").warning("warming up the worker: %s on %s", exc, path)
            break
    return app


# -- the parser ----------------------------------------------------------------------


def _add_filters(p: argparse.ArgumentParser) -> None:
    """The search filters ``search`` and ``facets`` share."""
    p.add_argument("--entity", action="append", metavar="VALUE",
                   help="only articles with this entity (repeatable, ANDed)")
    p.add_argument("--entity-any", action="append", metavar="VALUE",
                   help="articles with any of these entities (repeatable; one OR group per type, "
                   "ANDed with each other and with --entity)")
    p.add_argument("--entity-not", action="append", metavar="VALUE",
                   help="only articles without this entity (repeatable)")
    p.add_argument("--date", help="YYYY, YYYY-MM, YYYY-MM-DD or undated")
    p.add_argument("--from", dest="date_from", help="earliest day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", help="latest day, YYYY-MM-DD")
    p.add_argument("--cluster", metavar="ID", help="only the copies of this story (the id 'also in' prints)")
    p.add_argument("--all-copies", action="store_true",
                   help="list and count every copy of a syndicated story (default: each story once, "
                   "as its earliest copy)")


def _add_backend(p: argparse.ArgumentParser) -> None:
    """--backend and --opensearch-url, over NEWSFACET_BACKEND and NEWSFACET_OPENSEARCH_URL."""
    p.add_argument("--backend", choices=api.BACKENDS,
                   help="the search engine: whoosh, an index folder (default), or opensearch, a cluster "
                   "(default: $NEWSFACET_BACKEND or whoosh)")
    p.add_argument("--opensearch-url", metavar="URL",
                   help="the OpenSearch cluster, with --backend opensearch "
                   "(default: $NEWSFACET_OPENSEARCH_URL or http://127.0.0.1:9200)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsfacet", description="Full-text search with entity and date facets for scraped news."
    )
    index_help = f"index folder (default: $NEWSFACET_INDEX or ./{DEFAULT_INDEX})"
    parser.add_argument("--index", help=index_help)
    # Also accepted after the command ("newsfacet index --index DIR ..."), where people type it;
    # SUPPRESS keeps a subcommand's absent flag from hiding one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", default=argparse.SUPPRESS, help=index_help)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index folders of .txt, .html, .jsonl and Reuters .sgm files")
    p.add_argument("paths", nargs="+", help="folders or files to index")
    p.add_argument("--rebuild", action="store_true",
                   help="re-read everything; the old index answers until the new one replaces it")
    p.add_argument("--aliases", help="alias file (default: $NEWSFACET_ALIASES)")
    p.add_argument("--procs", type=int, help="processes for cleaning (default: all cores)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another indexer (default 0)")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true", help="no progress on stderr")
    shown.add_argument("--progress", action="store_true",
                       help="progress bars (with total and time left) and the closing phases on stderr even when "
                       "it is not a terminal (default: only on a terminal)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="follow symbolic links that stay inside the folder given (default: skip every link)")
    _add_backend(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", parents=[common], help="search the index")
    p.add_argument("query", nargs="*", default=[], help="query words, anywhere among the options, joined "
                   "into one query; quote the quotes for a phrase: '\"oil prices\"' "
                   "(none: browse everything, newest first)")
    _add_filters(p)
    p.add_argument("--sort", default="relevance", help="relevance, newest or oldest")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, help="results per page (default: $NEWSFACET_PER_PAGE or 10)")
    p.add_argument("--facet-limit", type=int, help="facet values per type (default: $NEWSFACET_FACET_LIMIT or 20)")
    p.add_argument("--json", action="store_true", help="print the query service's answer as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("facets", parents=[common],
                       help="list one type's entity values for a search, counted, filtered by text, paged")
    p.add_argument("type", choices=("person", "org", "place", "other"))
    p.add_argument("--contains", metavar="TEXT",
                   help="only values (or a spelling merged into them) containing TEXT, ignoring case and accents")
    p.add_argument("--sort", choices=("count", "name"), default="count", help="count (default) or name")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, help="values per page (default 50)")
    p.add_argument("-q", "--query", dest="q", metavar="QUERY", help="the search whose articles are counted")
    _add_filters(p)
    p.add_argument("--json", action="store_true", help="print the query service's answer as JSON")
    p.set_defaults(func=cmd_facets)

    p = sub.add_parser("clean", parents=[common],
                       help="show what would be indexed for files, and what was dropped and why")
    p.add_argument("files", nargs="+")
    p.add_argument("--aliases", help="alias file")
    p.add_argument("--no-context", action="store_true", help="ignore sibling files' evidence of repeated lines")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("entities", parents=[common],
                       help="list entity values with type, document count and merged spellings")
    p.add_argument("--type", choices=("person", "org", "place", "other"))
    p.add_argument("--min-count", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_entities)

    p = sub.add_parser("check", parents=[common],
                       help="verify the index: every segment readable, counts consistent (exit 1 if damaged)")
    p.add_argument("--quick", action="store_true", help="skip reading back every stored article")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("migrate", parents=[common],
                       help="copy a collection to another engine as stored (no re-extraction), replacing the "
                       "target's contents, and report the counts on both sides (exit 1 if they differ)")
    p.add_argument("--from", dest="from_engine", choices=("whoosh",), default="whoosh",
                   help="the engine copied from: whoosh, the --index folder (default)")
    p.add_argument("--to", required=True, choices=("opensearch",),
                   help="the engine copied to: opensearch, the cluster of --opensearch-url")
    p.add_argument("--opensearch-url", metavar="URL",
                   help="the OpenSearch cluster (default: $NEWSFACET_OPENSEARCH_URL or http://127.0.0.1:9200)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for an indexer's lock (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", parents=[common], help="serve the web front end")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"server processes sharing the port (default {DEFAULT_WORKERS}: one process, no fork). "
                   "One process "
                   "answers about as many requests a second as one core allows, whatever --threads says; "
                   "set up to the number of cores for more. Each worker holds its own copy of the "
                   "index's caches, so memory grows with N; the default keeps it to one copy")
    p.add_argument("--threads", type=int, default=8, help="requests answered at once, per worker (default 8)")
    p.add_argument("--connection-limit", type=int, default=1000,
                   help="open connections accepted at once, per worker; more wait to be accepted (default 1000)")
    p.add_argument("--channel-timeout", type=int, default=30,
                   help="seconds an idle or stalled connection is kept open (default 30)")
    p.add_argument("--build", nargs="+", metavar="PATH", help="index these paths first (incremental)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="with --build: follow links that stay inside the folder given")
    p.add_argument("--aliases", help="alias file")
    _add_backend(p)
    p.set_defaults(func=cmd_serve)
    return parser


def _configure_logging(command: str) -> None:
    """The server logs what went wrong (a damaged index file, once, with its traceback)
    to stderr; the other commands print their own one-line errors and nothing else."""
    logger = logging.getLogger("newsfacet")
    if command == "serve":
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    elif not logger.handlers:
        logger.addHandler(logging.NullHandler())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line read by :func:`build_parser`, with ``search``'s words taken from anywhere.

    argparse gives a ``nargs="*"`` positional only the words before the first
    option, so ``search hamas --sort newest moscow`` would leave ``moscow``
    unrecognized; here every word left over joins the query, in order.  A
    leftover option is still an error; after ``--`` everything is a word.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if not extra:
        return args
    words, unknown, literal = [], [], False
    for arg in extra:
        if arg == "--" and not literal:
            literal = True
        elif not literal and arg.startswith("-") and arg != "-":
            unknown.append(arg)
        else:
            words.append(arg)
    if args.command != "search" or unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown or extra)}")
    args.query = [*args.query, *words]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _configure_logging(args.command)
    try:
        return args.func(args)
    except (SearchError, ValueError) as exc:
        print(f"newsfacet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsfacet: interrupted; the index keeps its last commit", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away ("newsfacet search x | head"): not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
