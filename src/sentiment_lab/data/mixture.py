"""Mixtures of named datasets: `imdb+sst2+amazon-blitzer` as one training set, with
validation and test kept per source.

Per source: its records (data/datasets.py), its training rows capped (`caps`, a seeded
stratified subset), its own validation split (the official one where it has one, SST-2's dev,
Allociné's val; else carved out of its training rows), its own test split. Then the
cross-source check: a training text of one source that is a validation or test text of
another is dropped and counted (the texts are compared case- and whitespace-blind), so no
source's figures are measured on texts the model trained on. Last, the training rows are
mixed: every row once, or, with `weights`, each source drawn to its share of the mixture
(a source with fewer rows than its share is repeated). With `negation`, negated copies of short
training texts join their source's training rows first (data/negation.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from sentiment_lab.data.datasets import load_dataset, why_missing
from sentiment_lab.data.negation import negated_rows, polar_words
from sentiment_lab.data.records import Record, Splits
from sentiment_lab.data.registry import get_dataset
from sentiment_lab.data.splits import split_train_val, subsample
from sentiment_lab.exceptions import ConfigError, DataError


@dataclass
class Mixture(Splits):
    """train mixes every source; val and test are every source's, each record's `source` says whose."""
    sources: dict[str, Splits] = field(default_factory=dict)  # per source: capped, overlap-free, before weighting
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> {other source: training texts dropped}
    drawn: dict[str, int] = field(default_factory=dict)  # training rows per source in `train`
    negated: dict[str, int] = field(default_factory=dict)  # source -> negated copies added to its training rows

    def by_source(self, split: str) -> dict[str, list[Record]]:
        """One split's records grouped by source: figures per source come from here."""
        return {name: getattr(s, split) for name, s in self.sources.items()}

    def report(self) -> list[str]:
        """What was mixed and what was dropped, one line each, for the log."""
        lines = [f"{name}: {self.drawn.get(name, 0):,} train rows in the mix (of {len(s.train):,}), "
                 f"{len(s.val):,} val, {len(s.test):,} test" for name, s in self.sources.items()]
        lines += [f"{name}: {n:,} negated copies of short training texts added (data.negation)"
                  for name, n in self.negated.items()]
        for name, by in self.dropped.items():
            for other, n in by.items():
                if n:
                    lines.append(f"dropped {n:,} {name} training texts that are {other} validation/test texts")
        return lines


def parse_mixture(spec: str | Sequence[str]) -> list[str]:
    """'imdb+sst2+amazon-blitzer' -> ['imdb', 'sst2', 'amazon-blitzer']: known names, each once."""
    parts = spec.split("+") if isinstance(spec, str) else list(spec)
    names = [p.strip().lower() for p in parts]
    if not names or any(not n for n in names):
        raise ConfigError(f"mixture {spec!r} has an empty name; join dataset names with +, e.g. imdb+sst2")
    for n in names:
        ds = get_dataset(n)
        if not ds.labelled:
            raise ConfigError(f"{n} has no labels and cannot be part of a mixture for training a classifier")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"mixture {spec!r} names {', '.join(twice)} more than once; name each source once "
                          f"(give it a larger weight to draw more of it)")
    return names


def _per_source(names: list[str], value: object, what: str) -> dict[str, float]:
    """A number for every source, or a mapping name -> number naming only sources of the mixture."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        value = {str(k).strip().lower(): v for k, v in value.items()}  # as parse_mixture reads the names
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ConfigError(f"{what} given for {', '.join(unknown)}, which is not in the mixture {'+'.join(names)}")
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {n: value for n in names}
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == len(names):
        return dict(zip(names, value))
    raise ConfigError(f"{what} must be a number, a list of {len(names)} numbers or a mapping source -> number; "
                      f"got {value!r}")


def check_mixture_args(names: list[str], caps: object, weights: object, size: int | None,
                       val_fraction: float) -> tuple[dict[str, int], dict[str, float]]:
    """Every argument checked before anything is read or downloaded: one line per mistake."""
    cap_by = _per_source(names, caps, "caps")
    for n, c in cap_by.items():
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 1):
            raise ConfigError(f"cap for {n} must be a whole number of at least 1 (leave it out for every row), got {c!r}")
    weight_by = _per_source(names, weights, "weights")
    for n, w in weight_by.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not np.isfinite(w) or w < 0:
            raise ConfigError(f"weight for {n} must be a positive number, got {w!r}")
        if w == 0:
            raise ConfigError(f"weight for {n} is 0; leave {n} out of the mixture instead")
    if weight_by and set(weight_by) != set(names):
        raise ConfigError(f"weights name {', '.join(sorted(weight_by))} but the mixture has "
                          f"{'+'.join(names)}; give a weight to every source")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ConfigError(f"mixture size must be a whole number of at least 1, got {size!r}")
    if not 0 <= val_fraction < 1:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    return {n: int(c) for n, c in cap_by.items() if c is not None}, {n: float(w) for n, w in weight_by.items()}


def text_key(text: str) -> str:
    """What counts as the same text across sources: case and whitespace do not matter."""
    return " ".join(text.casefold().split())


def drop_cross_source_overlap(sources: dict[str, Splits]) -> dict[str, dict[str, int]]:
    """Remove, in place, every training text of one source that is a validation or test text
    of another; return the counts, source -> {other source: n}."""
    held = {name: {text_key(r.text) for r in s.val + s.test} for name, s in sources.items()}
    dropped: dict[str, dict[str, int]] = {}
    for name, s in sources.items():
        others = {o: keys for o, keys in held.items() if o != name}
        keep, counts = [], {o: 0 for o in others}
        for r in s.train:
            hit = next((o for o, keys in others.items() if text_key(r.text) in keys), None)
            if hit is None:
                keep.append(r)
            else:
                counts[hit] += 1
        s.train = keep
        dropped[name] = counts
    return dropped


def add_negations(sources: dict[str, Splits], seed: int, copies: int = 1) -> dict[str, int]:
    """Add, in place, negated copies of every source's short polar training texts (`copies` per
    text in the more common direction, more in the other: data/negation.py; polar words learnt
    from all sources' training rows), less any copy that is a validation or test text of any
    source; return the copies added per source."""
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 0:
        raise ConfigError(f"negation must be a whole number of copies, 0 for none; got {copies!r}")
    polar = polar_words(r for s in sources.values() for r in s.train)
    held = {text_key(r.text) for s in sources.values() for r in s.val + s.test}
    added = {}
    for name, s in sources.items():
        rows = [r for r in negated_rows(s.train, polar, seed, copies) if text_key(r.text) not in held]
        s.train = s.train + rows
        added[name] = len(rows)
    return added


def _draw(records: list[Record], k: int, rng: np.random.Generator) -> list[Record]:
    """k records: a sample without repeats when there are enough, else all of them and repeats."""
    if k <= len(records):
        return [records[i] for i in sorted(rng.choice(len(records), size=k, replace=False))]
    extra = rng.choice(len(records), size=k - len(records), replace=True)
    return list(records) + [records[i] for i in extra]


def mix(sources: dict[str, Splits], weights: dict[str, float], size: int | None, seed: int) -> dict[str, list[Record]]:
    """Each source's training rows in the mixture: all of them, or its weighted share of `size`
    (default: as many rows as the sources hold together)."""
    if not weights and size is None:
        return {n: list(s.train) for n, s in sources.items()}
    weights = weights or {n: float(len(s.train)) for n, s in sources.items()}
    total = size if size is not None else sum(len(s.train) for s in sources.values())
    rng = np.random.default_rng(seed)
    shares = {n: w / sum(weights.values()) for n, w in weights.items()}
    return {n: _draw(s.train, round(shares[n] * total), rng) for n, s in sources.items()}


def _source_splits(name: str, records: list[Record], cap: int | None, seed: int, val_fraction: float,
                   val_split: str) -> Splits:
    train = subsample([r for r in records if r.split == "train"], cap, seed)
    val = [r for r in records if r.split == "val"]
    test = [r for r in records if r.split == "test"]
    if not train:
        raise DataError(f"{name} has no training rows")
    if not val:
        train, val = split_train_val(train, val_fraction, seed, val_split)
    return Splits(train=train, val=val, test=test)


def load_mixture(names: str | Sequence[str], caps: int | Mapping[str, int] | Sequence[int] | None = None,
                 weights: Mapping[str, float] | Sequence[float] | None = None, seed: int = 42,
                 val_fraction: float = 0.2, val_split: str = "random", size: int | None = None,
                 require_test: bool = False, paths: Mapping[str, str | Path] | None = None,
                 progress: bool = True, negation: int = 0) -> Mixture:
    """Load several named datasets as one training set (see the module docstring).

    names: 'imdb+sst2+amazon-blitzer' or a list of names. caps: the most training rows kept per
    source (one number for all, a list in the order of `names`, or a mapping). weights: each
    source's share of the mixed training rows (same forms; every source needs one, none may be
    0); None keeps every row once. size: training rows in the mix (default: all the sources'
    rows together). val_fraction/val_split: how validation is carved out of a source's training
    rows when it has no official one. require_test: fail unless every source has a test split
    (for test figures). paths: a local copy per source, instead of $SENTIMENT_LAB_DATA/cache.
    negation: negated copies, label flipped, of the short training texts the rules of
    data/negation.py apply to: this many per text in the more common direction (0: none)."""
    names = parse_mixture(names)
    cap_by, weight_by = check_mixture_args(names, caps, weights, size, val_fraction)
    paths = _per_source(names, paths or None, "paths")  # checked and keyed like the names
    sources: dict[str, Splits] = {}
    for name in names:
        records = load_dataset(name, path=paths.get(name), progress=progress)
        sources[name] = _source_splits(name, records, cap_by.get(name), seed, val_fraction, val_split)
        if require_test and not sources[name].test:
            raise DataError(f"{name} has no test split here, and test figures were asked for every source"
                            f"{why_missing(get_dataset(name), ['test'])}")
    negated = add_negations(sources, seed, negation) if negation else {}
    dropped = drop_cross_source_overlap(sources)
    drawn = mix(sources, weight_by, size, seed)
    train = [r for n in names for r in drawn[n]]
    order = np.random.default_rng(seed).permutation(len(train))
    return Mixture(train=[train[i] for i in order], val=[r for s in sources.values() for r in s.val],
                   test=[r for s in sources.values() for r in s.test], sources=sources, dropped=dropped,
                   drawn={n: len(v) for n, v in drawn.items()}, negated=negated)


def load_split_by_source(names: str | Sequence[str], split: str = "test", limit: int | None = None, seed: int = 42,
                         progress: bool = True) -> list[Record]:
    """One split of every named source, `source` set on each record: what figures per source
    (`evaluate --data imdb+sst2`) are measured on. Each source's split is whole, or at most
    `limit` rows of it (seeded, stratified), so that a large source does not crowd out a small
    one. A source without that split (SST-2's test from GLUE's zip) is a one-line DataError,
    raised before the next source is read."""
    records: list[Record] = []
    for name in parse_mixture(names):
        records += subsample(load_dataset(name, splits=[split], progress=progress), limit, seed)
    return records
