"""A real OpenSearch cluster for tests, with no distribution download.

Each node is one JVM running the launcher in ``launcher/`` (a ``Node`` with
netty4, analysis-common and painless on its classpath, all from Maven
Central), listening on 127.0.0.1 only, with its own folder under a base
folder: ``home/`` (config written by the launcher), ``data/``, ``logs/``,
``tmp/``, ``node.log`` (the JVM's stdout and stderr) and ``pid``.

Library use (a test fixture)::

    cluster = start(3, base_dir)    # waits for green, raises with log tails
    try: ... cluster.url ...
    finally: cluster.stop()

Command line (CI): ``python -m tests.opensearch.cluster start --dir DIR``
starts the nodes detached, waits for green and writes ``DIR/cluster.json``;
``stop --dir DIR`` stops them by the PIDs recorded there; ``status --dir DIR``
tells whether they run. ``build`` only builds the launcher.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER_DIR = HERE / "launcher"
MAIN_CLASS = "newsfacet.opensearch.TestNode"
HOST = "127.0.0.1"
CLUSTER_NAME = "newsfacet-test"
STATE_FILE = "cluster.json"
GREEN_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0
BUILD_TIMEOUT = 900.0
BUILD_STAMP = ".newsfacet-built"

JVM_OPTIONS = [
    "-Xms512m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-Dfile.encoding=UTF-8",
    # what a distribution's jvm.options sets for a 2.x node
    "-Djava.locale.providers=SPI,COMPAT",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dlog4j2.disable.jmx=true",
    # the launcher's own hook closes the node, then log4j: keep logging until then
    "-Dlog4j.shutdownHookEnabled=false",
]


class ClusterError(RuntimeError):
    """The cluster could not be built, started or reached."""


# ---------------------------------------------------------------- HTTP


def http_json(url: str, method: str = "GET", body=None, timeout: float = 30.0, ndjson: bool = False):
    """(status, decoded JSON) of one request; HTTP errors are answers too, not exceptions."""
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-ndjson" if ndjson else "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
        e.close()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


# ---------------------------------------------------------------- build


def _newest_source_mtime(launcher_dir: Path) -> float:
    files = [launcher_dir / "pom.xml", *(p for p in (launcher_dir / "src").rglob("*") if p.is_file())]
    return max(p.stat().st_mtime for p in files)


def classpath(launcher_dir: Path = LAUNCHER_DIR) -> str:
    target = Path(launcher_dir) / "target"
    return f"{target / 'classes'}{os.pathsep}{target / 'lib' / '*'}"


def build(launcher_dir: Path | str = LAUNCHER_DIR, force: bool = False) -> Path:
    """Build the launcher (classes + target/lib) unless it is newer than its sources; return target/."""
    launcher_dir = Path(launcher_dir).resolve()
    target = launcher_dir / "target"
    stamp = target / BUILD_STAMP
    if not force and stamp.exists() and stamp.stat().st_mtime >= _newest_source_mtime(launcher_dir):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ClusterError("mvn is not on PATH: cannot build the OpenSearch launcher")
    if stamp.exists():
        stamp.unlink()
    # Offline first (no network round trips once ~/.m2 holds the jars), online if something is missing.
    attempts = []
    for offline in (True, False):
        cmd = [mvn, "-q", "-B", *(["-o"] if offline else []), "package"]
        try:
            proc = subprocess.run(
                cmd, cwd=launcher_dir, capture_output=True, text=True, timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{' '.join(cmd)} took more than {BUILD_TIMEOUT:.0f} s") from None
        if proc.returncode == 0:
            stamp.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
            return target
        attempts.append(f"$ {' '.join(cmd)} (exit {proc.returncode})\n" + _tail(proc.stdout + proc.stderr, 30))
    raise ClusterError("building the OpenSearch launcher failed:\n" + "\n".join(attempts))


# ---------------------------------------------------------------- processes


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped) is not running
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_jvm(pid: int, home: str) -> bool:
    """Whether pid is still the launcher JVM of that node (not a reused PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the PID
    args = [a.decode(errors="replace") for a in cmdline]
    return MAIN_CLASS in args and f"-Epath.home={home}" in args


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether something already listens on host:port (bound as the node would bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise ClusterError("java is not on PATH (and JAVA_HOME has none): cannot start OpenSearch")
    return java


@dataclass
class NodeInfo:
    name: str
    http_port: int
    transport_port: int
    dir: str
    pid: int | None = None

    @property
    def home(self) -> str:
        return str(Path(self.dir) / "home")

    @property
    def log(self) -> Path:
        return Path(self.dir) / "node.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.http_port}"


class Cluster:
    """Nodes started by start() in this process, or recorded in a cluster.json (load())."""

    def __init__(self, nodes: list[NodeInfo], base_dir: Path, launcher_dir: Path = LAUNCHER_DIR):
        self.nodes = nodes
        self.base_dir = Path(base_dir)
        self.launcher_dir = Path(launcher_dir)
        self._procs: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def node(self, name: str) -> NodeInfo:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r} (nodes: {', '.join(n.name for n in self.nodes)})")

    # ---- state

    def to_json(self) -> dict:
        return {
            "cluster_name": CLUSTER_NAME,
            "url": self.url,
            "base_dir": str(self.base_dir),
            "launcher_dir": str(self.launcher_dir),
            "nodes": [asdict(n) | {"url": n.url, "log": str(n.log)} for n in self.nodes],
        }

    def save(self, path: Path | None = None) -> Path:
        path = Path(path) if path else self.base_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, base_dir: Path | str) -> Cluster:
        path = Path(base_dir) / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise ClusterError(f"no {path}: no cluster was started with --dir {base_dir}") from None
        nodes = [
            NodeInfo(n["name"], n["http_port"], n["transport_port"], n["dir"], n.get("pid")) for n in state["nodes"]
        ]
        return cls(nodes, Path(state["base_dir"]), Path(state["launcher_dir"]))

    # ---- processes

    def alive(self, name: str) -> bool:
        n = self.node(name)
        proc = self._procs.get(name)
        if proc is not None:
            return proc.poll() is None
        return n.pid is not None and _is_our_jvm(n.pid, n.home)

    def _wait_dead(self, names: list[str], timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        left = [nm for nm in names if self.alive(nm)]
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = [nm for nm in left if self.alive(nm)]
        return left

    def _signal(self, name: str, sig: int) -> None:
        n = self.node(name)
        if n.pid is None or not self.alive(name):
            return
        try:
            os.kill(n.pid, sig)
        except ProcessLookupError:
            pass

    def start_node(self, name: str, detach: bool = False) -> None:
        """Start (or restart) one node's JVM; it does not wait for the cluster (see wait_green)."""
        n = self.node(name)
        if self.alive(name):
            raise ClusterError(f"node {name} already runs (pid {n.pid})")
        for port in (n.http_port, n.transport_port):
            if port_in_use(port):
                raise ClusterError(
                    f"port {port} on {HOST} is already in use (for node {name}): stop what listens there "
                    f"(another test cluster? `python -m tests.opensearch.cluster stop --dir DIR`) "
                    f"or choose other ports (--http-base/--transport-base)"
                )
        node_dir = Path(n.dir)
        for sub in ("data", "logs", "tmp", "home"):
            (node_dir / sub).mkdir(parents=True, exist_ok=True)
        seeds = ",".join(f"{HOST}:{m.transport_port}" for m in self.nodes)
        settings = {
            "cluster.name": CLUSTER_NAME,
            "node.name": n.name,
            "path.home": n.home,
            "path.data": str(node_dir / "data"),
            "path.logs": str(node_dir / "logs"),
            "network.host": HOST,
            "http.port": n.http_port,
            "transport.port": n.transport_port,
            "discovery.seed_hosts": seeds,
            "cluster.initial_cluster_manager_nodes": ",".join(m.name for m in self.nodes),
        }
        cmd = [
            java_executable(),
            *JVM_OPTIONS,
            f"-Djava.io.tmpdir={node_dir / 'tmp'}",
            "-cp",
            classpath(self.launcher_dir),
            MAIN_CLASS,
            "-p",
            str(node_dir / "pid"),
            *(f"-E{k}={v}" for k, v in settings.items()),
        ]
        with open(n.log, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=node_dir,
                start_new_session=detach,  # detached: survives the CLI that started it
            )
        n.pid = proc.pid
        self._procs[name] = proc

    def health(self, wait_for_nodes: int | None = None, status: str = "green", timeout: float = 5.0, url=None):
        query = f"wait_for_status={status}&timeout={timeout:.0f}s"
        if wait_for_nodes is not None:
            query += f"&wait_for_nodes={wait_for_nodes}"
        return http_json(f"{url or self.url}/_cluster/health?{query}", timeout=timeout + 10)

    def wait_green(self, timeout: float = GREEN_TIMEOUT, wait_for_nodes: int | None = None) -> dict:
        """Wait until every node runs and the cluster is green with all of them; raise with log tails if not."""
        want = wait_for_nodes if wait_for_nodes is not None else len(self.nodes)
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            dead = [n.name for n in self.nodes if not self.alive(n.name)]
            if len(self.nodes) - len(dead) < want:
                gone = ", ".join(dead)
                raise ClusterError(f"node(s) {gone} exited before the cluster was green\n" + self.log_tails())
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClusterError(
                    f"cluster not green with {want} nodes within {timeout:.0f} s (last: {last})\n" + self.log_tails()
                )
            try:
                code, body = self.health(want, "green", timeout=max(1.0, min(5.0, left)))
                green = isinstance(body, dict) and body.get("status") == "green" and not body.get("timed_out")
                if code == 200 and green:
                    return body
                last = f"HTTP {code}: {body}"
            except (OSError, urllib.error.URLError) as e:  # not listening yet
                last = repr(e)
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def log_tails(self, lines: int = 30) -> str:
        out = []
        for n in self.nodes:
            try:
                text = n.log.read_text(errors="replace")
            except OSError as e:
                text = f"(no log: {e})"
            out.append(f"--- {n.name} ({n.log}), last {lines} lines:\n{_tail(text, lines)}")
        return "\n".join(out)

    def kill(self, node_name: str, timeout: float = 15.0) -> None:
        """SIGKILL one node by its PID (a crash, for failover tests) and wait until it is gone."""
        self._signal(node_name, signal.SIGKILL)
        if self._wait_dead([node_name], timeout):
            raise ClusterError(f"node {node_name} (pid {self.node(node_name).pid}) still runs after SIGKILL")

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM every node, wait up to timeout, SIGKILL what is left. Safe to call twice."""
        names = [n.name for n in self.nodes if self.alive(n.name)]
        for nm in names:
            self._signal(nm, signal.SIGTERM)
        left = self._wait_dead(names, timeout)
        for nm in left:
            self._signal(nm, signal.SIGKILL)
        left = self._wait_dead(left, 10.0)
        if left:
            raise ClusterError(f"node(s) {', '.join(left)} survived SIGKILL")


_unstopped: list[Cluster] = []


@atexit.register
def _stop_forgotten() -> None:
    # A safety net for in-process (not detached) clusters whose owner forgot stop().
    for c in _unstopped:
        try:
            c.stop(timeout=10.0)
        except Exception:
            pass


def start(
    nodes: int = 3,
    base_dir: Path | str | None = None,
    http_base: int = 9201,
    transport_base: int = 9301,
    *,
    launcher_dir: Path | str = LAUNCHER_DIR,
    timeout: float = GREEN_TIMEOUT,
    detach: bool = False,
) -> Cluster:
    """Build if needed, start `nodes` JVMs (n1..nN) and wait for green; on any failure stop them and raise."""
    if nodes < 1:
        raise ValueError("nodes must be >= 1")
    base_dir = Path(base_dir) if base_dir is not None else Path(tempfile.mkdtemp(prefix="newsfacet-opensearch-"))
    base_dir = base_dir.resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    busy = [p for i in range(nodes) for p in (http_base + i, transport_base + i) if port_in_use(p)]
    if busy:
        raise ClusterError(
            f"port(s) {', '.join(map(str, busy))} on {HOST} already in use: stop what listens there (another test "
            f"cluster? `python -m tests.opensearch.cluster stop --dir DIR`) or pass other --http-base/--transport-base"
        )
    java_executable()
    build(launcher_dir)
    infos = []
    for i in range(nodes):
        name = f"n{i + 1}"
        node_dir = base_dir / name
        if node_dir.exists():  # a fresh cluster each time: old data would carry another cluster's state
            shutil.rmtree(node_dir)
        infos.append(NodeInfo(name, http_base + i, transport_base + i, str(node_dir)))
    cluster = Cluster(infos, base_dir, Path(launcher_dir).resolve())
    if not detach:
        _unstopped.append(cluster)
    try:
        for n in infos:
            cluster.start_node(n.name, detach=detach)
        cluster.wait_green(timeout)
    except BaseException:
        cluster.stop(timeout=15.0)
        raise
    return cluster


# ---------------------------------------------------------------- command line


def _cmd_start(args) -> int:
    base = Path(args.dir).resolve()
    state = base / STATE_FILE
    if state.exists():
        old = Cluster.load(base)
        running = [n.name for n in old.nodes if old.alive(n.name)]
        if running:
            print(f"a cluster already runs from {state} (nodes {', '.join(running)}): stop it first", file=sys.stderr)
            return 1
        state.unlink()
    t0 = time.monotonic()
    try:
        cluster = start(args.nodes, base, args.http_base, args.transport_base, timeout=args.timeout, detach=True)
    except ClusterError as e:
        print(f"cluster start failed: {e}", file=sys.stderr)
        return 1
    cluster.save(state)
    pids = ", ".join(f"{n.name}={n.pid}" for n in cluster.nodes)
    print(f"green in {time.monotonic() - t0:.1f} s: {cluster.url} ({pids}); state in {state}")
    return 0


def _cmd_stop(args) -> int:
    base = Path(args.dir).resolve()
    try:
        cluster = Cluster.load(base)
    except ClusterError as e:
        print(e, file=sys.stderr)
        return 0 if args.missing_ok else 1
    cluster.stop(timeout=args.timeout)
    (base / STATE_FILE).unlink(missing_ok=True)
    print(f"stopped {', '.join(n.name for n in cluster.nodes)}")
    return 0


def _cmd_status(args) -> int:
    try:
        cluster = Cluster.load(Path(args.dir).resolve())
    except ClusterError as e:
        print(e, file=sys.stderr)
        return 1
    ok = True
    for n in cluster.nodes:
        up = cluster.alive(n.name)
        ok &= up
        print(f"{n.name}: pid {n.pid} {'running' if up else 'NOT running'}, {n.url}, log {n.log}")
    try:
        code, body = http_json(f"{cluster.url}/_cluster/health", timeout=5)
        print(
            f"health: HTTP {code} {body.get('status') if isinstance(body, dict) else body}, "
            f"{body.get('number_of_nodes') if isinstance(body, dict) else '?'} nodes"
        )
        ok &= code == 200
    except (OSError, urllib.error.URLError) as e:
        print(f"health: no answer from {cluster.url} ({e})")
        ok = False
    return 0 if ok else 1


def _cmd_build(args) -> int:
    try:
        print(build(LAUNCHER_DIR, force=args.force))
    except ClusterError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.opensearch.cluster", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="start the nodes detached, wait for green, write DIR/cluster.json")
    s.add_argument("--dir", required=True, help="folder for the nodes' data, logs and cluster.json")
    s.add_argument("--nodes", type=int, default=3)
    s.add_argument("--http-base", type=int, default=9201, help="HTTP port of n1 (n2 gets the next one...)")
    s.add_argument("--transport-base", type=int, default=9301, help="transport port of n1")
    s.add_argument("--timeout", type=float, default=GREEN_TIMEOUT, help="seconds to wait for green")
    s.set_defaults(func=_cmd_start)
    s = sub.add_parser("stop", help="stop the nodes recorded in DIR/cluster.json")
    s.add_argument("--dir", required=True)
    s.add_argument("--timeout", type=float, default=STOP_TIMEOUT, help="seconds after SIGTERM before SIGKILL")
    s.add_argument("--missing-ok", action="store_true", help="exit 0 when there is no cluster.json")
    s.set_defaults(func=_cmd_stop)
    s = sub.add_parser("status", help="whether the nodes in DIR/cluster.json run and answer")
    s.add_argument("--dir", required=True)
    s.set_defaults(func=_cmd_status)
    s = sub.add_parser("build", help="build the launcher if its sources changed")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=_cmd_build)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
