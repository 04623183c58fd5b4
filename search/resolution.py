"""Collection-wide entity resolution: one stable canonical value per entity.

The per-article extractor (:func:`search.extract.entities.extract_entities`)
merges the mentions of one document; :class:`EntityResolver` works across
documents: it learns every full name and spelling of a batch, then maps each
document's entities to a canonical value that it persists, so values stay
stable from one run to the next.  Surname-only names join the one full
person name ending with them (``Putin`` -> ``Vladimir Putin``), and the alias
table (:mod:`search.aliases`) forces the merges no rule can guess.

The state is ``{"version": 1, "clusters": {key: {"value", "type",
"spellings": {spelling: documents}}}, "partials": {key: key}}``, where a
person's key is made of transliteration-tolerant word keys
(:func:`search.namekeys.heavy_key`) and any other entity's key is its
folded name.  Nothing here imports an index backend or the extractor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from search.aliases import AliasTable
from search.document import ENTITY_TYPES, Entity
from search.namekeys import heavy_key, light_key, name_key, name_tokens, person_key

STATE_VERSION = 1
# The resolver keeps at most this many spellings per entity in its state.
MAX_SPELLINGS = 64


@dataclass
class _RawStats:
    spellings: Counter = field(default_factory=Counter)  # spelling -> documents
    values: Counter = field(default_factory=Counter)  # per-document value -> documents
    types: Counter = field(default_factory=Counter)
    mentions: int = 0
    forced: str | None = None  # canonical name from the alias table


class EntityResolver:
    """Map entities to canonical values that stay stable across runs.

    Call :meth:`observe` with every document's entities of a batch, then
    :meth:`resolve` for each document.  :meth:`state` is a JSON-serialisable
    dict to persist and hand back next run: values decided once are never
    renamed, and new spellings map onto them.
    """

    def __init__(self, aliases: AliasTable, state: dict | None = None) -> None:
        self._aliases = aliases
        self._clusters: dict[str, dict] = {}  # key -> {"value", "type", "spellings": {spelling: docs}}
        self._partials: dict[str, str] = {}  # raw key -> cluster key
        if state:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported entity state version {state.get('version')!r}")
            for key, cluster in state.get("clusters", {}).items():
                self._clusters[key] = {
                    "value": cluster["value"],
                    "type": cluster["type"],
                    "spellings": dict(cluster.get("spellings", {})),
                }
                if cluster.get("alias"):
                    self._clusters[key]["alias"] = True
            self._partials.update(state.get("partials", {}))
        self._words: Counter = Counter()  # word -> documents, for tie-breaks
        for cluster in self._clusters.values():
            for spelling, docs in cluster["spellings"].items():
                for word in set(name_tokens(spelling)):
                    self._words[word] += docs
        self._raw: dict[str, _RawStats] = {}
        self._key_cache: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._pending: set[str] = set()
        self._targets: dict[str, str] = {}  # raw key -> cluster key, decided
        self._ends: dict[str, set[str]] | None = None

    # -- keys --
    def _raw_key(self, entity: Entity) -> tuple[str, str | None]:
        cache_key = (entity.value, entity.type)
        cached = self._key_cache.get(cache_key)
        if cached is None:
            if len(self._key_cache) > 500_000:
                self._key_cache.clear()
            cached = self._key_cache[cache_key] = self._compute_raw_key(entity)
        return cached

    def _compute_raw_key(self, entity: Entity) -> tuple[str, str | None]:
        hit = self._aliases.lookup_key(name_key(entity.value))
        if hit is not None:
            canonical, etype = hit
            if (etype or entity.type) == "person":
                return "p:" + " ".join(person_key(name_tokens(canonical))), canonical
            return "n:" + name_key(canonical), canonical
        if entity.type == "person":
            return "p:" + " ".join(person_key(name_tokens(entity.value))), None
        return "n:" + name_key(entity.value), None

    def observe(self, entities: list[Entity]) -> None:
        """Learn the names and spellings of one document's entities."""
        seen: set[str] = set()
        for entity in entities:
            key, forced = self._raw_key(entity)
            stats = self._raw.get(key)
            if stats is None:
                stats = self._raw[key] = _RawStats()
            if forced:
                stats.forced = forced
            if key not in seen:
                stats.values[entity.value] += 1
                words: set[str] = set()
                for spelling in entity.spellings | {entity.value}:
                    stats.spellings[spelling] += 1
                    words.update(name_tokens(spelling))
                for word in words:
                    self._words[word] += 1
            seen.add(key)
            stats.types[entity.type] += entity.count
            stats.mentions += entity.count
            if key not in self._targets:
                self._pending.add(key)

    def _finalise(self) -> None:
        if not self._pending:
            return
        pending = sorted(self._pending)
        self._pending.clear()
        # 1. Full names (and everything that is not a partial) first.
        new_clusters: dict[str, dict] = {}
        for key in pending:
            stats = self._raw[key]
            if key in self._partials:
                continue
            if key in self._clusters:
                continue
            new_clusters[key] = {"value": None, "type": None, "spellings": {}}
        # 2. Partial names: join the one full person name ending with them.
        ends = self._end_index(set(self._clusters) | set(new_clusters))
        for key in pending:
            if key in self._partials or key in self._clusters:
                self._targets[key] = self._partials.get(key, key)
                continue
            stats = self._raw[key]
            target = None
            if stats.forced is None:
                etype = _majority(stats.types)
                if etype in ("person", "other") or (key.startswith("p:")):
                    target = self._partial_target(key, ends)
            if target is not None and target != key and self._same_surname(key, target):
                self._partials[key] = target
                self._targets[key] = target
                new_clusters.pop(key, None)
            else:
                self._targets[key] = key
        # 3. Values and types of new clusters, from all their raw names.
        members: dict[str, list[str]] = {}
        for key in pending:
            members.setdefault(self._targets[key], []).append(key)
        for cluster_key, raw_keys in sorted(members.items()):
            cluster = self._clusters.get(cluster_key) or new_clusters.get(cluster_key)
            if cluster is None:  # a partial pointing at a cluster decided earlier in this run
                cluster = self._clusters.setdefault(cluster_key, {"value": None, "type": None, "spellings": {}})
            spell = cluster["spellings"]
            types: Counter = Counter()
            values: Counter = Counter()
            forced = None
            for raw_key in raw_keys:
                stats = self._raw[raw_key]
                for spelling, docs in stats.spellings.items():
                    spell[spelling] = spell.get(spelling, 0) + docs
                values.update(stats.values)
                types.update(stats.types)
                forced = forced or stats.forced
                stats.spellings.clear()
                stats.values.clear()
            if cluster["value"] is None:
                cluster["value"] = forced or _choose_value(values or Counter(spell), self._words)
                cluster["type"] = _majority(types)
                if forced:
                    cluster["alias"] = True
            _cap_spellings(cluster)
            self._clusters[cluster_key] = cluster
        if new_clusters:
            self._upgrade_partials(set(self._clusters) - set(new_clusters))

    def _upgrade_partials(self, old: set[str]) -> None:
        """Join a surname decided in an earlier run to a full name learnt now.

        Earlier documents only had "Putin"; this batch brought "Vladimir
        Putin", the one full name ending with it.  The indexer re-resolves
        unchanged documents, so they move to the full name.
        """
        ends = self._end_index(set(self._clusters))
        for key in sorted(old):
            cluster = self._clusters.get(key)
            if cluster is None or cluster.get("alias") or cluster["type"] not in ("person", "other"):
                continue
            target = self._partial_target(key, ends)
            if target is None or target == key or target not in self._clusters:
                continue
            if not self._same_surname(key, target):
                continue
            full = self._clusters[target]
            for spelling, docs in cluster["spellings"].items():
                full["spellings"][spelling] = full["spellings"].get(spelling, 0) + docs
            _cap_spellings(full)
            del self._clusters[key]
            self._partials[key] = target
            for raw, mapped in list(self._targets.items()):
                if mapped == key:
                    self._targets[raw] = target
            for raw, mapped in list(self._partials.items()):
                if mapped == key:
                    self._partials[raw] = target

    def _same_surname(self, key: str, target: str) -> bool:
        """A one-word name must match the full name's last word closely.

        Full-name keys tolerate vowel changes (Muhammad = Mohamed); a lone
        "Patten" must not become "Vladimir Putin".
        """
        if " " in key[2:]:
            return True
        words = self._spellings_of(key)
        lasts = {light_key(name_tokens(s)[-1]) for s in self._spellings_of(target) if name_tokens(s)}
        return any(light_key(w) in lasts for w in words if " " not in w) or not words

    def _spellings_of(self, key: str) -> list[str]:
        cluster = self._clusters.get(key)
        out = list(cluster["spellings"]) if cluster else []
        stats = self._raw.get(key)
        if stats is not None:
            out.extend(stats.spellings)
            out.extend(stats.values)
        return out

    def _end_index(self, keys: set[str]) -> dict[str, set[str]]:
        ends: dict[str, set[str]] = {}
        for key in keys:
            if not key.startswith("p:"):
                continue
            tokens = key[2:].split(" ")
            for n in range(1, len(tokens)):
                ends.setdefault(" ".join(tokens[-n:]), set()).add(key)
        return ends

    def _partial_target(self, key: str, ends: dict[str, set[str]]) -> str | None:
        tokens = key[2:].split(" ")
        if key.startswith("n:"):
            # An untyped single name: compare as a person name.
            raw = key[2:]
            tokens = [heavy_key(t) for t in raw.split(" ")]
        candidates = ends.get(" ".join(tokens))
        if not candidates:
            return None
        candidates = {c for c in candidates if c != key}
        # Keep only the longest names: "Abu Marzouk" is itself a suffix of
        # "Mousa Abu Marzouk" and must not make "Marzouk" ambiguous.
        maximal = {c for c in candidates if not any(o != c and o.endswith(" " + c[2:]) for o in candidates)}
        if len(maximal) == 1:
            return maximal.pop()
        return None

    def prime(self, documents: Iterable[list[Entity]]) -> None:
        """Learn the not-yet-known names of many documents, then settle them in one pass.

        :meth:`resolve` settles unknown names one document at a time, and
        each settling pass looks at every cluster; priming a batch first keeps
        re-resolving a large index linear.
        """
        for entities in documents:
            unseen = [e for e in entities if self._raw_key(e)[0] not in self._targets
                      and self._raw_key(e)[0] not in self._raw]
            if unseen:
                self.observe(unseen)
        self._finalise()

    def resolve(self, entities: list[Entity]) -> list[Entity]:
        """Return *entities* with canonical values, duplicates merged."""
        unseen = [e for e in entities if self._raw_key(e)[0] not in self._targets]
        if unseen:
            if any(self._raw_key(e)[0] not in self._raw for e in unseen):
                self.observe(unseen)
            self._finalise()
        self._finalise()
        out: dict[str, Entity] = {}
        for entity in entities:
            raw, _ = self._raw_key(entity)
            key = self._targets.get(raw, raw)
            cluster = self._clusters.get(key)
            if cluster is None:
                continue
            existing = out.get(key)
            if existing is None:
                out[key] = Entity(
                    value=cluster["value"],
                    type=cluster["type"],
                    spellings=set(entity.spellings) | {entity.value},
                    count=entity.count,
                )
            else:
                existing.spellings |= entity.spellings | {entity.value}
                existing.count += entity.count
        return list(out.values())

    def state(self) -> dict:
        """Return a JSON-serialisable snapshot to pass back next run."""
        self._finalise()
        return {
            "version": STATE_VERSION,
            "clusters": {key: _cluster_state(c) for key, c in sorted(self._clusters.items())},
            "partials": dict(sorted(self._partials.items())),
        }

    def spellings(self) -> dict[str, list[str]]:
        """Canonical value -> every spelling merged into it."""
        self._finalise()
        out: dict[str, set[str]] = {}
        for cluster in self._clusters.values():
            out.setdefault(cluster["value"], set()).update(cluster["spellings"])
        return {value: sorted(spellings) for value, spellings in sorted(out.items())}


def _cluster_state(cluster: dict) -> dict:
    out = {"value": cluster["value"], "type": cluster["type"], "spellings": dict(sorted(cluster["spellings"].items()))}
    if cluster.get("alias"):
        out["alias"] = True
    return out


def _cap_spellings(cluster: dict) -> None:
    spell = cluster["spellings"]
    if len(spell) > MAX_SPELLINGS:
        keep = sorted(spell, key=lambda s: (-spell[s], s))[:MAX_SPELLINGS]
        cluster["spellings"] = {s: spell[s] for s in keep}


def _majority(types: Counter) -> str:
    if not types:
        return "other"
    typed = {t: n for t, n in types.items() if t != "other"}
    pool = typed or dict(types)
    return max(pool, key=lambda t: (pool[t], -ENTITY_TYPES.index(t) if t in ENTITY_TYPES else -99))


def _choose_value(values: Counter, words: Counter) -> str:
    """Most frequent fullest value; ties by how common its words are, then A-Z.

    *words* counts documents per word over the whole collection, so
    "Gaddafi" beats "Qaddafi" when more articles spell it that way.
    """
    sizes = {s: len(name_tokens(s)) for s in values}
    longest = max(sizes.values())
    candidates = [s for s in values if sizes[s] == longest]
    return min(
        candidates,
        key=lambda s: (-values[s], -sum(words[w] for w in name_tokens(s)), not s[:1].isupper(), s),
    )
