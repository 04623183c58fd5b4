"""newsfacet installed from its wheel, not from this checkout (issue 10).

``pip install .`` used to answer 500 on every HTML page: the top-level
``templates/`` folder was not in the wheel, and ``create_app`` looked for it
beside the installed ``web`` package.  This builds the wheel the way
``pip install .`` does, installs it into a fresh virtualenv with nothing of the
checkout importable, and runs that venv's own ``newsfacet index`` and
``newsfacet serve``, so the templates, static files and word lists all come
from the wheel.

The fresh venv has no pip and no dependencies of its own: a ``.pth`` file
points at this interpreter's site-packages for Flask, Whoosh and the rest, and
the wheel goes in with ``--no-deps``.  A ``.pth`` line only extends
``sys.path``; the ``.pth`` files in that folder (the editable install's finder)
are not run, so only the wheel's ``web`` and ``search`` can be imported.
"""

from __future__ import annotations

import configparser
import html
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import SEEDS, SEEDS_CRAWLED, copy_corpus, free_port, stop_server, wait_for_server

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("search", "web")
START_TIMEOUT = 30.0
# What an sdist would leave out of a checkout: VCS data, venvs, indexes, caches, earlier builds.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "index", "instance", "build", "dist", "tests",
                                    "bench", "seeds", "__pycache__", "*.egg-info", ".*cache", ".hypothesis")


def _shipped_folders() -> dict[str, Path]:
    """Package name -> checkout folder, for every folder the wheel has to carry."""
    folders = {"web.templates": ROOT / "templates"}  # setup.cfg maps the top-level folder into web
    for top in PACKAGES:
        for folder in [ROOT / top, *sorted(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            rel = folder.relative_to(ROOT)
            if "__pycache__" in rel.parts or any(part.startswith(".") for part in rel.parts):
                continue
            folders[".".join(rel.parts)] = folder
    return folders


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith((".pyc", "~"))}


def test_setup_cfg_lists_every_folder_of_the_packages():
    """setup.cfg names its packages one by one (a ``find:`` cannot add the mapped
    ``web.templates``), so a new sub-package or data folder must be added there."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    listed = set(cfg["options"]["packages"].split())
    missing = set(_shipped_folders()) - listed
    assert not missing, f"add to [options] packages in setup.cfg (and its files to package_data): {sorted(missing)}"
    data = {name for name, value in cfg["options.package_data"].items() if value.strip()}
    no_data = {name for name, folder in _shipped_folders().items()
               if any(not f.endswith(".py") for f in _files(folder))} - data
    assert not no_data, f"folders whose files would not ship; add to [options.package_data]: {sorted(no_data)}"


def _env(tmp: Path) -> dict[str, str]:
    """The user's environment without anything that would point Python at the checkout."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFACET_") and k not in drop}
    env.update(NEWSFACET_INSTANCE=str(tmp / "instance"), NEWSFACET_SECRET_KEY="packaging-test",
               PYTHONUNBUFFERED="1", PYTHONNOUSERSITE="1")
    return env


def _run(cmd: list[str], tmp: Path, timeout: float = 300) -> str:
    done = subprocess.run(cmd, cwd=tmp, env=_env(tmp), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip install .`` would build, from a copy of the checkout's sources
    (so no build/ left in the checkout, and no stale build/lib in the wheel)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE, symlinks=True)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(src)], tmp)
    (built,) = (tmp / "dist").glob("newsfacet-*.whl")
    return built


def test_wheel_carries_code_templates_static_and_word_lists(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = {f"{name.replace('.', '/')}/{f}" for name, folder in _shipped_folders().items() for f in _files(folder)}
    assert not expected - names, f"not in the wheel: {sorted(expected - names)}"
    assert "web/templates/search.html" in names and "search/data/aliases.txt" in names
    assert not any(n.startswith(("templates/", "tests/", "seeds/")) for n in names)


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed and the dependencies borrowed."""
    tmp = tmp_path_factory.mktemp("venv")
    env_dir = tmp / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], tmp)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_newsfacet_test_deps.pth").write_text("".join(f"{d}\n" for d in deps), encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet",
          str(wheel)], tmp)
    return env_dir


def test_installed_package_is_the_wheel(venv, tmp_path):
    out = _run([str(venv / "bin" / "python"), "-c", "import search, web; print(search.__file__); print(web.__file__)"],
               tmp_path)
    for line in out.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), f"imported from outside the venv: {line}"


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8", "replace")


def test_installed_wheel_indexes_and_serves_every_kind_of_page(venv, tmp_path):
    newsfacet = str(venv / "bin" / "newsfacet")
    seeds = copy_corpus(SEEDS, tmp_path / "seeds", SEEDS_CRAWLED)
    ix = tmp_path / "ix"
    _run([newsfacet, "--index", str(ix), "index", str(seeds), "--quiet"], tmp_path)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([newsfacet, "--index", str(ix), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=tmp_path, env=_env(tmp_path), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_server(proc, log_path, lambda: _get(url + "/api/search?q=hamas")[0] == 200, START_TIMEOUT)
            hits = json.loads(_get(url + "/api/search?q=hamas")[2])["hits"]
            assert hits, "no article matches hamas in the seeds"

            status, ctype, page = _get(url + "/search?q=hamas")
            assert (status, ctype.split(";")[0]) == (200, "text/html"), page[:2000]
            assert f"/doc/{hits[0]['id']}" in page
            # Query terms are marked in result titles, so compare the text without the marks.
            assert hits[0]["title"] in html.unescape(re.sub(r"</?mark>", "", page))

            status, ctype, page = _get(url + f"/doc/{hits[0]['id']}")
            assert (status, ctype.split(";")[0]) == (200, "text/html"), page[:2000]
            assert hits[0]["title"] in html.unescape(page)

            status, ctype, feed = _get(url + "/search.atom?q=hamas")
            assert status == 200 and "atom" in ctype, feed[:2000]
            assert feed.count("<entry") == len(hits)

            status, ctype, css = _get(url + "/static/newsfacet.css")
            assert (status, ctype.split(";")[0]) == (200, "text/css")
            assert css == (ROOT / "web" / "static" / "newsfacet.css").read_text(encoding="utf-8")
        finally:
            stop_server(proc)
