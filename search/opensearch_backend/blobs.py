"""State kept beside the articles in ``{prefix}-meta``, as blobs split over documents.

A blob is a header ``{"version", "parts"}`` under its name and its parts,
base64 each, under ``name@version#i``.  The writer (:mod:`.writer`) writes a
new blob's parts before its header, so a header always names parts that
exist; reading the header, then its parts, gives one whole blob.  Both the
writer and the read side (:mod:`.state`) read them with :func:`read_blob`.
"""

from __future__ import annotations

import base64

# The blobs a collection keeps.
ENTITY_STATE = "entity_state"
CLUSTER_STATE = "cluster_state"
RUN_STAMPS = "run_stamps"


def part_id(name: str, version, part: int) -> str:
    """The document id of part *part* of version *version* of blob *name*."""
    return f"{name}@{version}#{part}"


def read_blob(client, meta: str, name: str, head: dict | None) -> bytes | None:
    """The blob *head* names (None: missing, or a part gone: treated as missing, as an
    unreadable state file is)."""
    if head is None:
        return None
    version, parts = head.get("version"), int(head.get("parts") or 0)
    if not parts:
        return b""
    ids = [part_id(name, version, i) for i in range(parts)]
    docs = client.mget(index=meta, body={"ids": ids})["docs"]
    if not all(d.get("found") for d in docs):
        return None
    return b"".join(base64.b64decode(d["_source"]["data"]) for d in docs)
