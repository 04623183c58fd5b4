"""Saved searches under concurrency: parallel saves, renames and deletes neither lose nor duplicate."""

from __future__ import annotations

import re
import threading

from web import create_app

THREADS = 8
SAVES_EACH = 12


def token_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/search").data.decode()).group(1)


def test_parallel_saves_renames_and_deletes(seed_index, tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": str(seed_index), "SAVED_DB": str(tmp_path / "saved.db")})
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        client = app.test_client()
        token = token_of(client)
        barrier.wait(timeout=30)
        for i in range(SAVES_EACH):
            # every thread uses the same names, so slugs collide all the time
            response = client.post("/saved", data={"name": f"Search {i}", "query": f"q=Hamas&page={n + 1}",
                                                   "csrf_token": token})
            if response.status_code != 303:
                errors.append(f"save {n}/{i}: {response.status_code}")
        mine = [s for s in client.get("/api/saved").get_json()["saved"] if s["name"] == "Search 0"]
        if mine:
            slug = mine[n % len(mine)]["slug"]
            r = client.post(f"/saved/{slug}/rename", data={"name": f"Renamed by {n}", "csrf_token": token})
            if r.status_code not in (303, 404):  # 404: another thread deleted it first
                errors.append(f"rename {n}: {r.status_code}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    saved = app.test_client().get("/api/saved").get_json()["saved"]
    slugs = [s["slug"] for s in saved]
    assert len(saved) == THREADS * SAVES_EACH  # nothing lost
    assert len(set(slugs)) == len(slugs)  # nothing duplicated

    def deleter(chunk: list[str]) -> None:
        client = app.test_client()
        token = token_of(client)
        for slug in chunk:
            r = client.post(f"/saved/{slug}/delete", data={"csrf_token": token})
            if r.status_code != 303:
                errors.append(f"delete {slug}: {r.status_code}")

    chunks = [slugs[i::THREADS] for i in range(THREADS)]
    threads = [threading.Thread(target=deleter, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert app.test_client().get("/api/saved").get_json()["saved"] == []
