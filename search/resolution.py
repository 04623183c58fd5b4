"""Collection-wide entity resolution: one stable canonical value per entity.

The per-article extractor (:func:`search.extract.entities.extract_entities`)
merges the mentions of one document; :class:`EntityResolver` works across
documents: it learns every name and spelling of a collection, then maps each
document's entities to one canonical value per real-world entity.

Resolution is on names, not on each document's type guess: "Reagan" typed a
person in one article and an organisation in another is one name, and its
type is decided by the votes of every document naming it (a type beats
"other", the most documents win).  So a value never appears under two types.
On top of the name:

* person names meet by transliteration-tolerant keys
  (:func:`search.namekeys.person_key`: Mohamed = Muhammad in full names);
* a surname-only name joins the full person name ending with it when that
  full name is unambiguous in the collection (it holds most of the documents
  of the full names ending so): "Reagan" -> "Ronald Reagan";
* a full name seen once joins the far better attested person of its surname,
  initial and office ("Energy Secretary James Herrington", a wire typo, ->
  "John Herrington");
* company names compare without their legal form (:func:`~search.namekeys.without_legal_suffix`):
  "General Motors Corp" = "General Motors";
* the alias table (:mod:`search.aliases`) forces the merges no rule can guess.

The value shown is the most common well-attested spelling: a spelling seen in
one document never wins over one seen in several, so a typo cannot become the
canonical name.

Values decided in an earlier run (the state handed back) are never renamed,
so facet links stay valid; values decided in this run are decided again as
more documents arrive (the indexer re-resolves the documents of the run at
its end).  The state is ``{"version": 2, "clusters": {key: {"value", "type",
"spellings": {spelling: documents}, "types": {type: documents}, "roles": {office:
documents}}}, "partials": {name key: cluster key}}`` ("roles" only when known).
Nothing here imports an index backend or the extractor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from search.aliases import AliasTable
from search.document import ENTITY_TYPES, Entity
from search.namekeys import heavy_key, light_key, name_key, name_tokens, person_key, without_legal_suffix

STATE_VERSION = 2
# The resolver keeps at most this many spellings per entity in its state.
MAX_SPELLINGS = 64
# A surname joins the full name ending with it that has this many times the
# documents of the next one ("Reagan" -> "Ronald Reagan", not "Nancy Reagan").
SURNAME_DOMINANCE = 3
# A name seen once joins a person of its surname, initial and office who has
# at least this many documents ("James Herrington" -> "John Herrington").
MISNAMED_DOMINANCE = 10
# The resolver keeps at most this many roles per entity in its state.
MAX_ROLES = 8
# During a run, clusters are rebuilt from everything observed once the names
# known have grown by this factor since the last rebuild (:meth:`EntityResolver.settle`).
REBUILD_GROWTH = 1.5


@dataclass
class _RawStats:
    """What the collection says about one name (all spellings with one name key)."""

    spellings: Counter = field(default_factory=Counter)  # spelling -> documents
    values: Counter = field(default_factory=Counter)  # per-document value -> documents
    types: Counter = field(default_factory=Counter)  # type -> documents
    roles: Counter = field(default_factory=Counter)  # title written before it -> documents
    forced: str | None = None  # canonical name from the alias table
    forced_type: str | None = None


class EntityResolver:
    """Map entities to canonical values that stay stable across runs.

    Call :meth:`observe` with every document's entities of a batch, then
    :meth:`resolve` for each document.  :meth:`state` is a JSON-serialisable
    dict to persist and hand back next run: values decided then are never
    renamed, and new spellings map onto them.
    """

    def __init__(self, aliases: AliasTable, state: dict | None = None) -> None:
        self._aliases = aliases
        # Clusters decided in an earlier run: key -> {"value", "type", "spellings", "types"}.
        self._frozen: dict[str, dict] = {}
        self._frozen_partials: dict[str, str] = {}  # name key -> frozen cluster key
        if state:
            if state.get("version") not in (1, STATE_VERSION):  # version 1: no type votes, read as is
                raise ValueError(f"unsupported entity state version {state.get('version')!r}")
            for key, cluster in state.get("clusters", {}).items():
                self._frozen[key] = {
                    "value": cluster["value"],
                    "type": cluster["type"],
                    "spellings": dict(cluster.get("spellings", {})),
                    "types": dict(cluster.get("types", {})),
                    "roles": dict(cluster.get("roles", {})),
                    "alias": bool(cluster.get("alias")),
                }
            self._frozen_partials.update(state.get("partials", {}))
        self._raw: dict[str, _RawStats] = {}
        self._key_cache: dict[str, tuple[str, str | None, str | None]] = {}
        self._pending = False  # names or votes observed since the clusters were last settled
        self._exact = True  # the clusters are a full rebuild's, not provisional (see settle)
        self._new_keys: list[str] = []  # names first observed since the last full rebuild
        self._rebuilt_names = 0  # names known at the last full rebuild
        self._joined: dict[str, str] = {}  # the last full rebuild's joins (surname -> full name)
        self._frozen_pkeys: dict[str, str] | None = None
        self._targets: dict[str, str] = {}  # name key -> cluster key
        self._clusters: dict[str, dict] = {}  # every cluster, frozen and new, as decided now
        self._words: Counter = Counter()  # word -> documents, for tie-breaks
        for cluster in self._frozen.values():
            for spelling, docs in cluster["spellings"].items():
                for word in set(name_tokens(spelling)):
                    self._words[word] += docs
        self._rebuild()

    # -- keys --
    def _raw_key(self, entity: Entity) -> tuple[str, str | None, str | None]:
        """(name key, alias canonical, alias type) of an entity's value; its type plays no part."""
        cached = self._key_cache.get(entity.value)
        if cached is None:
            if len(self._key_cache) > 500_000:
                self._key_cache.clear()
            cached = self._key_cache[entity.value] = self._compute_raw_key(entity.value)
        return cached

    def _compute_raw_key(self, value: str) -> tuple[str, str | None, str | None]:
        hit = self._aliases.lookup_key(name_key(value))
        if hit is not None:
            return "n:" + name_key(hit[0]), hit[0], hit[1]
        base = without_legal_suffix(value)
        if base != value:
            known = self._aliases.lookup_key(name_key(base))
            if known is not None and known[1] not in (None, "org"):
                base = value  # "Japan Ltd" is no Japan
            elif known is not None:
                return "n:" + name_key(known[0]), known[0], known[1]
        return "n:" + name_key(base), None, None

    def observe(self, entities: list[Entity]) -> None:
        """Learn the names, spellings and type votes of one document's entities."""
        seen: dict[str, set[str]] = {}  # name key -> spellings counted for this document
        voted: set[tuple[str, str]] = set()
        for entity in entities:
            key, forced, forced_type = self._raw_key(entity)
            stats = self._raw.get(key)
            if stats is None:
                stats = self._raw[key] = _RawStats()
                self._new_keys.append(key)
            if forced:
                stats.forced, stats.forced_type = forced, forced_type
            spellings = seen.setdefault(key, set())
            if entity.value not in spellings:
                stats.values[entity.value] += 1
            new = (entity.spellings | {entity.value}) - spellings
            for spelling in new:
                stats.spellings[spelling] += 1
                for word in name_tokens(spelling):
                    self._words[word] += 1
            spellings |= new
            if (key, entity.type) not in voted:  # one vote per document and type
                voted.add((key, entity.type))
                stats.types[entity.type] += 1
            for role in entity.roles:
                if (key, role) not in voted:
                    voted.add((key, role))
                    stats.roles[role] += 1
            self._pending = True

    # -- deciding --
    def _finalise(self, exact: bool = False) -> None:
        """Decide the clusters again if anything was observed since; with *exact*, also
        replace :meth:`settle`'s provisional clusters by a full rebuild."""
        if self._pending or (exact and not self._exact):
            self._pending = False
            self._rebuild()

    def settle(self) -> None:
        """Settle a batch of observed documents while a run goes on.

        A full rebuild decides every cluster from everything observed, in time
        proportional to all the names known: one per batch made a long run
        quadratic (1.5 s per batch at Reuters' 29,000 names).  So it runs only
        once the names known have grown by :data:`REBUILD_GROWTH` since the last
        one, a geometric schedule whose rebuilds sum to a few full ones; in
        between, each new name gets the cluster its own key leads to
        (:meth:`_settle_new`), which the next rebuild may change.  Whatever an
        article was written with, the run ends with :meth:`prime` over every
        article (an exact rebuild) and rewrites those whose entities differ, so
        the index and the state are the same under any schedule.
        """
        if not self._pending:
            return
        names = len(self._raw) + len(self._frozen)
        if not self._rebuilt_names or names >= REBUILD_GROWTH * self._rebuilt_names:
            self._finalise()
        else:
            self._pending = False
            self._settle_new()

    def _rebuild(self) -> None:
        """Decide every cluster from everything observed (frozen clusters keep their value)."""
        frozen = self._frozen
        self._exact = True
        self._new_keys = []
        self._rebuilt_names = len(self._raw) + len(frozen)
        # 1. Each name's own cluster key (:meth:`_own_target`).
        base: dict[str, str] = {}
        group_types: dict[str, Counter] = {}
        for key in sorted(self._raw):
            stats = self._raw[key]
            target = base[key] = self._own_target(key, stats)
            group_types.setdefault(target, Counter()).update(stats.types)
        for key, cluster in frozen.items():
            group_types.setdefault(key, Counter()).update(cluster["types"])
        # 2. Surnames join the one dominant full person name ending with them.
        group_docs: Counter = Counter()
        for key, target in base.items():
            group_docs[target] += sum(self._raw[key].values.values())
        for key, cluster in frozen.items():
            group_docs[key] += max(cluster["spellings"].values(), default=0)
        group_names = self._group_names(base)
        members: dict[str, list[str]] = {}
        for key, target in base.items():
            members.setdefault(target, []).append(key)
        forced_groups = {target for key, target in base.items() if self._raw[key].forced}
        persons = {g for g, types in group_types.items() if _majority(types) == "person"}
        ends = _end_index(persons, group_names)
        joined: dict[str, str] = {}
        for group in sorted(set(base.values()) | set(frozen)):
            if group in forced_groups or group in frozen and frozen[group].get("alias"):
                continue
            tokens = group_names.get(group)
            if not tokens or " ".join(tokens) not in ends:
                continue
            if _majority(group_types.get(group, Counter())) not in ("person", "other"):
                continue
            # Heavy keys let "Reagan" end "Donald Regan" too: only full names
            # whose last word is spelt alike compete.
            candidates = {c for c in ends[" ".join(tokens)] - {group} if self._same_surname(group, c, members)}
            target = _dominant(candidates, group_docs)
            if target is not None:
                joined[group] = target
        # 2b. A full name seen once joins the one far better attested person of
        # its surname and initial who holds the same office: "Energy Secretary
        # James Herrington" is a wire typo of Energy Secretary John Herrington.
        self._join_misnamed(persons, group_names, group_docs, members, forced_groups, joined)
        for group in list(joined):  # "Herrington" -> "James Herrington" -> "John Herrington"
            target, seen = joined[group], {group}
            while target in joined and target not in seen:
                seen.add(target)
                target = joined[target]
            joined[group] = target
        # 3. Final targets, clusters with values, types and spellings.
        self._joined = joined
        self._targets = {key: joined.get(target, target) for key, target in base.items()}
        clusters: dict[str, dict] = {}
        for key, cluster in frozen.items():
            if key in joined:
                continue
            clusters[key] = {"value": cluster["value"], "type": None, "spellings": dict(cluster["spellings"]),
                             "types": Counter(cluster["types"]), "roles": Counter(cluster["roles"]),
                             "alias": cluster.get("alias", False), "frozen": True, "values": Counter()}
        partials = dict(self._frozen_partials)
        for group, target in joined.items():
            if group in frozen:
                partials[group] = joined.get(target, target)
                cl = clusters.setdefault(joined.get(target, target), _new_cluster())
                for spelling, docs in frozen[group]["spellings"].items():
                    cl["spellings"][spelling] = cl["spellings"].get(spelling, 0) + docs
                cl["roles"].update(frozen[group]["roles"])
        for key in sorted(self._raw):
            stats = self._raw[key]
            target = self._targets[key]
            cluster = clusters.setdefault(target, _new_cluster())
            for spelling, docs in stats.spellings.items():
                cluster["spellings"][spelling] = cluster["spellings"].get(spelling, 0) + docs
            cluster["types"].update(stats.types)
            cluster["roles"].update(stats.roles)
            cluster["values"].update(stats.values)
            if stats.forced and not cluster.get("frozen"):
                cluster["forced"] = stats.forced
                cluster["forced_type"] = stats.forced_type
                cluster["alias"] = True
            if key != target:
                partials[key] = target
        key_of = {id(cluster): key for key, cluster in clusters.items()}
        for cluster in clusters.values():
            _legal_form_votes(cluster)
            if not cluster.get("frozen") or cluster["value"] is None:
                cluster["value"] = cluster.get("forced") or _choose_value(
                    cluster["values"] or Counter(cluster["spellings"]), self._words)
            if cluster.get("frozen") and not cluster["types"]:
                cluster["type"] = self._frozen[key_of[id(cluster)]]["type"]  # a state without votes
            else:
                cluster["type"] = cluster.get("forced_type") or _majority(cluster["types"])
            _cap_spellings(cluster)
        self._clusters = clusters
        self._partials = {k: v for k, v in partials.items() if k != v}

    def _own_target(self, key: str, stats: _RawStats) -> str:
        """A name's own cluster key: a frozen cluster it already belongs to, its
        alias canonical, a person key, or the name itself."""
        if key in self._frozen_partials:
            return self._frozen_partials[key]
        if key in self._frozen or stats.forced:
            return key
        if (stats.forced_type or _majority(stats.types)) == "person" and stats.values:
            words = person_key(name_tokens(_top(stats.values)))
            if len(words) == 1:
                # Vowel-tolerant keys are for full names, where the other
                # words agree too: a lone "Regan" is not "Reagan".
                words = (light_key(name_tokens(_top(stats.values))[-1]),)
            pkey = "p:" + " ".join(words)
            if self._frozen_pkeys is None:  # the frozen clusters do not change during a run
                self._frozen_pkeys = self._frozen_person_keys()
            return self._frozen_pkeys.get(pkey, pkey)
        return key

    def _settle_new(self) -> None:
        """Provisional clusters for the names observed since the last full rebuild:
        the cluster a name's own key leads to (through the last rebuild's joins),
        or a new one of its own, valued from its spellings and typed by its votes."""
        self._exact = False
        for key in self._new_keys:  # none has a target yet: both rebuild and this clear the list
            stats = self._raw[key]
            target = self._own_target(key, stats)
            target = self._joined.get(target, target)
            if target not in self._clusters:
                cluster = _new_cluster()
                cluster["value"] = stats.forced or _choose_value(stats.values or Counter(stats.spellings), self._words)
                cluster["type"] = stats.forced_type or _majority(stats.types)
                self._clusters[target] = cluster
            self._targets[key] = target
        self._new_keys = []

    def _join_misnamed(
        self,
        persons: set[str],
        names: dict[str, tuple[str, ...]],
        docs: Counter,
        members: dict[str, list[str]],
        forced: set[str],
        joined: dict[str, str],
    ) -> None:
        """Join a full person name seen in one document to the person it misnames.

        Only knowledge of the office tells "James Herrington" (once, "Energy
        Secretary James Herrington") from a second Herrington: the target must
        share the surname, the given name's initial and a qualified office
        (two words or more: "energy secretary", "prime minister"; a bare
        "president" is too common), have MISNAMED_DOMINANCE times its
        documents, and be the only such person.
        """
        roles = self._group_roles(members)
        by_surname: dict[str, list[str]] = {}
        for group in persons:
            tokens = names.get(group)
            if tokens and len(tokens) >= 2 and group not in joined:
                by_surname.setdefault(tokens[-1], []).append(group)
        for group in sorted(persons):
            tokens = names.get(group)
            if not tokens or len(tokens) < 2 or docs[group] != 1 or group in forced or group in joined:
                continue
            if group in self._frozen and self._frozen[group].get("alias"):
                continue
            offices = {r for r in roles.get(group, ()) if " " in r}
            if not offices:
                continue
            initial = self._given_initial(group, members)
            found = [
                other for other in by_surname.get(tokens[-1], ())
                if other != group
                and docs[other] >= MISNAMED_DOMINANCE
                and offices & set(roles.get(other, ()))
                and names[other][0] != tokens[0]
                and self._given_initial(other, members) == initial
                and self._same_surname(group, other, members)
            ]
            if len(found) == 1:
                joined[group] = found[0]

    def _group_roles(self, members: dict[str, list[str]]) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        for group, keys in members.items():
            for key in keys:
                if self._raw[key].roles:
                    out.setdefault(group, Counter()).update(self._raw[key].roles)
        for key, cluster in self._frozen.items():
            if cluster["roles"]:
                out.setdefault(key, Counter()).update(cluster["roles"])
        return out

    def _given_initial(self, group: str, members: dict[str, list[str]]) -> str:
        """First letter of the group's best-attested full spelling, folded."""
        if group in self._frozen:
            value = self._frozen[group]["value"]
        else:
            values: Counter = Counter()
            for key in members.get(group, ()):
                values.update(self._raw[key].values)
            value = _top(values)
        tokens = name_tokens(value)
        return tokens[0][:1].lower() if len(tokens) >= 2 else ""

    def _frozen_person_keys(self) -> dict[str, str]:
        """Person key of each frozen person cluster's value and full spellings -> its key."""
        out: dict[str, str] = {}
        for key, cluster in self._frozen.items():
            if cluster["type"] != "person":
                continue
            if key.startswith("p:"):
                out.setdefault(key, key)
            for spelling in [cluster["value"], *cluster["spellings"]]:
                tokens = name_tokens(spelling)
                if len(tokens) >= 2:
                    out.setdefault("p:" + " ".join(person_key(tokens)), key)
        return out

    def _group_names(self, base: dict[str, str]) -> dict[str, tuple[str, ...]]:
        """Each cluster's name as heavy-key tokens (its person key, or its value's)."""
        names: dict[str, tuple[str, ...]] = {}
        for key, target in base.items():
            if target in names:
                continue
            if target.startswith("p:"):
                words = tuple(target[2:].split(" "))
                names[target] = words if len(words) > 1 else (heavy_key(words[0]),)
            else:
                names[target] = tuple(heavy_key(t) for t in person_key(name_tokens(_top(self._raw[key].values)
                                                                                   or key[2:])))
        for key, cluster in self._frozen.items():
            if key not in names:
                names[key] = tuple(key[2:].split(" ")) if key.startswith("p:") else tuple(
                    heavy_key(t) for t in person_key(name_tokens(cluster["value"])))
        return {k: v for k, v in names.items() if v and all(v)}

    def _same_surname(self, group: str, target: str, members: dict[str, list[str]]) -> bool:
        """A one-word name must match the full name's last word closely.

        Full-name keys tolerate vowel changes (Muhammad = Mohamed); a lone
        "Patten" must not become "Vladimir Putin".
        """
        words = self._spellings_of(group, members)
        if any(len(name_tokens(w)) > 1 for w in words):
            return True
        lasts = {light_key(name_tokens(s)[-1]) for s in self._spellings_of(target, members) if name_tokens(s)}
        return any(light_key(w) in lasts for w in words) or not words

    def _spellings_of(self, group: str, members: dict[str, list[str]]) -> list[str]:
        out = list(self._frozen[group]["spellings"]) if group in self._frozen else []
        for key in members.get(group, ()):
            out.extend(self._raw[key].values)
        return out

    def prime(self, documents: Iterable[list[Entity]]) -> None:
        """Learn the not-yet-known names of many documents, then settle them in one pass."""
        for entities in documents:
            unseen = [e for e in entities if self._raw_key(e)[0] not in self._raw]
            if unseen:
                self.observe(unseen)
        self._finalise(exact=True)

    def resolve(self, entities: list[Entity]) -> list[Entity]:
        """Return *entities* with canonical values, duplicates merged."""
        unseen = [e for e in entities if self._raw_key(e)[0] not in self._raw]
        if unseen:
            self.observe(unseen)
        self._finalise()
        out: dict[str, Entity] = {}
        for entity in entities:
            raw = self._raw_key(entity)[0]
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
                    roles=set(entity.roles),
                )
            else:
                existing.spellings |= entity.spellings | {entity.value}
                existing.count += entity.count
                existing.roles |= entity.roles
        return list(out.values())

    def state(self) -> dict:
        """Return a JSON-serialisable snapshot to pass back next run."""
        self._finalise(exact=True)
        return {
            "version": STATE_VERSION,
            "clusters": {key: _cluster_state(c) for key, c in sorted(self._clusters.items())},
            "partials": dict(sorted(self._partials.items())),
        }

    def spellings(self) -> dict[str, list[str]]:
        """Canonical value -> every spelling merged into it."""
        self._finalise(exact=True)
        out: dict[str, set[str]] = {}
        for cluster in self._clusters.values():
            out.setdefault(cluster["value"], set()).update(cluster["spellings"])
        return {value: sorted(spellings) for value, spellings in sorted(out.items())}

    def canonical(self, name: str) -> str | None:
        """The canonical value a spelling (or any name of the same key) was merged into, or None."""
        self._finalise(exact=True)
        key = self._compute_raw_key(name)[0]
        target = self._targets.get(key) or self._partials.get(key) or key
        cluster = self._clusters.get(target)
        if cluster is not None:
            return cluster["value"]
        for cluster in self._clusters.values():
            if name in cluster["spellings"]:
                return cluster["value"]
        return None


def _legal_form_votes(cluster: dict) -> None:
    """A name written with a legal form ("Merrill Lynch and Co") is a company.

    Articles that only say "Merrill Lynch said" guess a person from the given
    name; the documents spelling the legal form outvote them as organisation.
    """
    values = cluster["values"]
    legal = sum(n for v, n in values.items() if without_legal_suffix(v) != v)
    if legal and legal * 5 >= sum(values.values()):
        types = cluster["types"]
        types["org"] = max(types.get("org", 0), sum(n for t, n in types.items() if t != "org") + 1)


def _new_cluster() -> dict:
    return {"value": None, "type": None, "spellings": {}, "types": Counter(), "roles": Counter(), "values": Counter()}


def _top(values: Counter) -> str:
    return min(values, key=lambda v: (-values[v], v)) if values else ""


def _end_index(persons: set[str], names: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Trailing words of every full person name -> the names ending with them."""
    ends: dict[str, set[str]] = {}
    for key in persons:
        tokens = names.get(key)
        if not tokens or len(tokens) < 2:
            continue
        for n in range(1, len(tokens)):
            ends.setdefault(" ".join(tokens[-n:]), set()).add(key)
    return ends


def _dominant(candidates: set[str], docs: Counter) -> str | None:
    """The full name a partial one stands for, or None when it is ambiguous.

    "Abu Marzouk" is itself a suffix of "Mousa Abu Marzouk" and must not make
    "Marzouk" ambiguous: only the longest names count.  Of those, one must
    have several times the documents of the next.
    """
    if not candidates:
        return None
    maximal = sorted(c for c in candidates if not any(o != c and o.endswith(" " + c[2:]) for o in candidates))
    if len(maximal) == 1:
        return maximal[0]
    ranked = sorted(maximal, key=lambda c: (-docs[c], c))
    best, runner_up = ranked[0], ranked[1]
    return best if docs[best] >= 3 and docs[best] >= SURNAME_DOMINANCE * docs[runner_up] else None


def _cluster_state(cluster: dict) -> dict:
    out = {
        "value": cluster["value"],
        "type": cluster["type"],
        "spellings": dict(sorted(cluster["spellings"].items())),
        "types": dict(sorted(cluster["types"].items())),
    }
    roles = cluster.get("roles")
    if roles:
        out["roles"] = dict(sorted(sorted(roles.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_ROLES]))
    if cluster.get("alias"):
        out["alias"] = True
    return out


def _cap_spellings(cluster: dict) -> None:
    spell = cluster["spellings"]
    if len(spell) > MAX_SPELLINGS:
        keep = sorted(spell, key=lambda s: (-spell[s], s))[:MAX_SPELLINGS]
        cluster["spellings"] = {s: spell[s] for s in keep}


def _majority(types: Counter) -> str:
    """The type most documents give; any type beats "other" (no evidence)."""
    if not types:
        return "other"
    typed = {t: n for t, n in types.items() if t != "other" and n > 0}
    pool = typed or {t: n for t, n in types.items() if n > 0} or {"other": 1}
    return max(pool, key=lambda t: (pool[t], -ENTITY_TYPES.index(t) if t in ENTITY_TYPES else -99))


def _choose_value(values: Counter, words: Counter) -> str:
    """The fullest well-attested value; ties by frequency, how common its words are, then A-Z.

    A value is well attested when it is seen in at least two documents and in
    a fortieth of the top value's, so a typo seen once or twice ("Secertary
    James Baker") never wins over the spelling most documents use.  *words*
    counts documents per word over the whole collection, so "Gaddafi" beats
    "Qaddafi" when more articles spell it that way.
    """
    top = max(values.values())
    floor = max(2, top / 40) if top >= 2 else 1
    pool = [s for s in values if values[s] >= floor] or list(values)
    sizes = {s: len(name_tokens(s)) for s in pool}
    longest = max(sizes.values())
    candidates = [s for s in pool if sizes[s] == longest]
    return min(
        candidates,
        key=lambda s: (-values[s], -sum(words[w] for w in name_tokens(s)), not s[:1].isupper(), s),
    )
