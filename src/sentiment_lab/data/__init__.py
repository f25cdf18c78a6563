"""Data loading: IMDB (archive, folder, download), the named datasets (registry, local
copies, download + checksum + cache), mixtures of them, the user's tables, tiny synthetic
data; and the one seeded, stratified train/validation split every command shares."""
from __future__ import annotations

from sentiment_lab.config import DataConfig
from sentiment_lab.data.datasets import DATA_ENV, list_datasets, load_dataset, resolve_dataset
from sentiment_lab.data.imdb import download, load_imdb
from sentiment_lab.data.mixture import Mixture, add_negations, load_mixture, load_split_by_source, parse_mixture
from sentiment_lab.data.ptb import detokenize
from sentiment_lab.data.records import UNLABELED, Record, Splits
from sentiment_lab.data.registry import DATASETS, Dataset, dataset_names, get_dataset
from sentiment_lab.data.splits import VAL_BLOCK, _natural_key, label_blocks, split_train_val, subsample
from sentiment_lab.data.synthetic import make_corpus
from sentiment_lab.data.tabular import load_table, read_table

__all__ = ["Record", "Splits", "UNLABELED", "download", "load_imdb", "load_table", "read_table", "make_corpus",
           "load_splits", "split_train_val", "subsample", "label_blocks", "VAL_BLOCK", "_natural_key",
           "DATASETS", "Dataset", "DATA_ENV", "dataset_names", "get_dataset", "list_datasets", "load_dataset",
           "resolve_dataset", "Mixture", "load_mixture", "load_split_by_source", "parse_mixture", "detokenize", "is_dataset_spec"]


def load_splits(cfg: DataConfig, seed: int = 42, progress: bool = True) -> Splits:
    """Train/validation/test records as configured; validation always comes out of train."""
    if cfg.source == "synthetic":  # a tiny learnable corpus: demos and tests, no files needed
        train, test = make_corpus(cfg.limit or 400, seed=seed), make_corpus(cfg.limit or 400, seed=seed + 1, split="test")
    elif is_dataset_spec(cfg.source) and (cfg.source != "imdb" or cfg.caps or cfg.weights or cfg.negation):  # "sst2", "imdb+sst2"
        return _load_named(cfg, seed, progress)
    elif cfg.source == "imdb":
        records = load_imdb(cfg.path, progress=progress)
        train = [r for r in records if r.split == "train"]
        test = [r for r in records if r.split == "test"]
    else:
        train = load_table(cfg.source, cfg.text_column, cfg.label_column, cfg.rating_threshold, split="train")
        test = []
        if cfg.test_path:
            test = load_table(cfg.test_path, cfg.text_column, cfg.label_column, cfg.rating_threshold, split="test")
    train = subsample(train, cfg.limit, seed)
    test = subsample(test, cfg.limit, seed)
    train, val = split_train_val(train, cfg.val_fraction, seed, cfg.val_split)
    splits = Splits(train=train, val=val, test=test)
    if cfg.negation:
        add_negations({"data": splits}, seed, cfg.negation)
    return splits


def _load_named(cfg: DataConfig, seed: int, progress: bool) -> Mixture:
    """A named dataset or mixture: per-source caps (data.caps, else data.limit for every source)
    and weights (data.weights); the test split of every source, at most data.limit rows of it in
    all. Plain "imdb" comes here only with caps or weights, its data.path kept."""
    names = parse_mixture(cfg.source)
    caps = {n: (cfg.caps or {}).get(n, cfg.limit) for n in names}
    paths = {"imdb": cfg.path} if cfg.source == "imdb" and cfg.path else None
    mix = load_mixture(names, caps=caps, weights=cfg.weights, seed=seed, val_fraction=cfg.val_fraction,
                       val_split=cfg.val_split, paths=paths, progress=progress, negation=cfg.negation)
    mix.test = subsample(mix.test, cfg.limit, seed)
    return mix


def is_dataset_spec(source: str) -> bool:
    """True for what names datasets rather than a file: a registered name, a `+`-joined mixture,
    or a bare word that is no file (loaded as a name, so that a typo lists the known names
    instead of saying "file not found"). "synthetic" is not one."""
    from pathlib import Path

    if source == "synthetic" or Path(source).exists():
        return False
    parts = [part.strip().lower() for part in source.split("+")]
    return all(p in DATASETS for p in parts) or "+" in source or not any(c in source for c in "/\\.")
