"""Typed configuration: dataclasses, TOML presets and dotted command-line overrides.

A run is fully described by one `Config`; it is written to the run directory and into
every bundle, so a model can always be traced back to the settings that made it.
Validation happens here, once, with messages that list the valid keys and values.
"""
from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import ConfigError, require_file


@dataclass
class DataConfig:
    source: str = "imdb"  # "imdb" (archive/folder/cache), "synthetic", or a CSV/TSV/JSONL/Parquet file
    path: str | None = None  # archive, aclImdb/ folder or table; None = cache/download
    test_path: str | None = None  # optional separate test table
    text_column: str = "text"
    label_column: str = "label"
    rating_threshold: float | None = None  # star ratings >= threshold are positive
    val_fraction: float = 0.2  # stratified, seeded split carved out of train; 0 = none (a final refit on all of train)
    val_split: str = "random"  # random | blocks: whole runs of consecutive ids (IMDB: a movie's reviews) per label
    limit: int | None = None  # keep at most this many train (and test) rows: quick runs


@dataclass
class TextConfig:
    level: str = "word"  # word | bpe
    vocab_size: int = 5000  # including [PAD]=0 and [UNK]=1
    max_len: int = 200  # tokens kept per review
    truncation: str = "tail"  # head | tail | head+tail: which tokens survive truncation
    min_frequency: int = 1
    stopwords: str = "none"  # none | english: function words the word-level tokenizer drops (text.STOPWORDS)


@dataclass
class ModelConfig:
    arch: str = "lstm.v1"  # registry name: versioned so old bundles keep loading
    embedding_dim: int = 128
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    pooling: str = "last"  # last | max | mean | attention
    input_dropout: float = 0.2  # dropout on the embeddings (Keras LSTM `dropout`)
    recurrent_dropout: float = 0.2  # DropConnect on hidden-to-hidden weights
    dropout: float = 0.5  # before the output layer
    layer_dropout: float = 0.2  # between stacked layers (num_layers > 1)
    pretrained_vectors: str = "none"  # none | word2vec | fasttext: trained on the training split, init the embedding
    freeze_embeddings: bool = False  # keep pretrained vectors fixed
    ngram_buckets: int = 0  # hashed n-gram vectors appended to each token's vector (0 = words only)
    ngram_dim: int = 32  # size of those n-gram vectors
    ngram_order: int = 2  # 2: the bigram ending at each token; 3: the trigram too (same table)
    bag_buckets: int = 0  # a linear term over the review's hashed n-grams, added to the logit (0 = off)
    bag_order: int = 2  # n-grams in that term: 1 words, 2 and bigrams, 3 and trigrams
    bag_scale: float = 30.0  # multiplies the term's weights: Adam then moves them this much faster


@dataclass
class TrainConfig:
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    lr_schedule: str = "constant"  # constant | linear | cosine: decay to 0 over the planned steps
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # 0 = no clipping (the notebook clips nothing)
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and kept instead (0 = off)
    patience: int = 2  # early stopping: epochs without validation improvement
    seed: int = 42
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | fp32 | bf16 (auto = bf16 on CUDA, fp32 on CPU)
    max_steps: int | None = None  # stop after this many optimizer steps (tests)
    augment: str = "none"  # none, or any of delete,swap,insert,synonym (comma-separated): EDA on training reviews
    augment_alpha: float = 0.1  # share of a review's tokens each augmentation operation touches
    eval_batch_size: int = 0  # reviews per validation/test batch (0 = auto: 64 on CPU, 512 on GPU; batching.py)
    adversarial: float = 0.0  # adversarial training: input vectors moved by this share of their norm (0 = off; adversarial.py)
    virtual_adversarial: float = 0.0  # virtual adversarial training (no labels needed), same scale (0 = off; adversarial.py)
    pretrain_epochs: int = 0  # epochs of language-model pretraining on the training texts first (0 = off; pretrain.py)
    cpu_shards: int = 0  # CPU: split each batch across this many worker threads (0 = auto: one per torch thread, at most 4; 1 = off)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    text: TextConfig = field(default_factory=TextConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Config":
        cfg = cls()
        for section, values in raw.items():
            if section not in _sections():
                raise ConfigError(f"unknown config section {section!r}; valid: {', '.join(_sections())}")
            if not isinstance(values, dict):
                raise ConfigError(f"config section {section!r} must be a table")
            for key, value in values.items():
                _set(cfg, section, key, value)
        validate(cfg)
        return cfg


CHOICES = {
    "data.val_split": ("random", "blocks"),
    "text.level": ("word", "bpe"),
    "text.truncation": ("head", "tail", "head+tail"),
    "text.stopwords": ("none", "english"),
    "model.pooling": ("last", "max", "mean", "attention"),
    "model.pretrained_vectors": ("none", "word2vec", "fasttext"),
    "train.lr_schedule": ("constant", "linear", "cosine"),
    "train.device": ("auto", "cpu", "cuda", "mps"),
    "train.precision": ("auto", "fp32", "bf16"),
}


def _sections() -> dict[str, type]:
    return {f.name: f.default_factory for f in dataclasses.fields(Config)}  # type: ignore[misc]


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Convert `value` (from TOML or a CLI string) to the annotated type, or fail clearly."""
    args = typing.get_args(tp)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        tp = next(a for a in args if a is not type(None))
    try:
        if tp is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError
        if tp is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if tp is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if tp is str:
            if not isinstance(value, str):
                raise ValueError
            return value
    except (TypeError, ValueError):
        pass
    else:
        return value
    raise ConfigError(f"{name} must be {getattr(tp, '__name__', tp)}, got {value!r}")


def _set(cfg: Config, section: str, key: str, value: Any) -> None:
    sub = getattr(cfg, section)
    hints = typing.get_type_hints(type(sub))
    if key not in hints:
        raise ConfigError(f"unknown config key {section}.{key}; valid: {', '.join(hints)}")
    setattr(sub, key, _coerce(f"{section}.{key}", hints[key], value))


def validate(cfg: Config) -> None:
    for dotted, valid in CHOICES.items():
        section, key = dotted.split(".")
        value = getattr(getattr(cfg, section), key)
        if value not in valid:
            raise ConfigError(f"{dotted}={value!r} is not valid; choose one of {', '.join(valid)}")
    positive = {"text.vocab_size": cfg.text.vocab_size, "text.max_len": cfg.text.max_len,
                "model.embedding_dim": cfg.model.embedding_dim, "model.hidden_size": cfg.model.hidden_size,
                "model.num_layers": cfg.model.num_layers, "train.epochs": cfg.train.epochs,
                "train.batch_size": cfg.train.batch_size}
    for name, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{name} must be > 0, got {value}")
    if cfg.data.limit is not None and cfg.data.limit < 1:
        raise ConfigError(f"data.limit must be >= 1 (leave it unset for every row), got {cfg.data.limit}")
    if cfg.text.stopwords != "none" and cfg.text.level != "word":
        raise ConfigError(f"text.stopwords={cfg.text.stopwords!r} needs text.level='word'")
    if cfg.train.eval_batch_size < 0:
        raise ConfigError(f"train.eval_batch_size must be >= 0 (0 = auto), got {cfg.train.eval_batch_size}")
    if not 0.0 <= cfg.train.adversarial <= 1.0:
        raise ConfigError(f"train.adversarial must be in [0, 1] (a share of the input vectors' norm), got {cfg.train.adversarial}")
    if not 0.0 <= cfg.train.virtual_adversarial <= 1.0:
        raise ConfigError("train.virtual_adversarial must be in [0, 1] (a share of the input vectors' norm), "
                          f"got {cfg.train.virtual_adversarial}")
    if cfg.train.pretrain_epochs < 0:
        raise ConfigError(f"train.pretrain_epochs must be >= 0 (0 = off), got {cfg.train.pretrain_epochs}")
    if cfg.train.cpu_shards < 0:
        raise ConfigError(f"train.cpu_shards must be >= 0 (0 = auto, 1 = off), got {cfg.train.cpu_shards}")
    if cfg.text.vocab_size < 3:
        raise ConfigError("text.vocab_size must be >= 3 ([PAD], [UNK] and one word)")
    for name in ("input_dropout", "recurrent_dropout", "dropout", "layer_dropout"):
        p = getattr(cfg.model, name)
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"model.{name} must be in [0, 1), got {p}")
    if cfg.model.ngram_dim <= 0:
        raise ConfigError(f"model.ngram_dim must be > 0, got {cfg.model.ngram_dim}")
    if cfg.model.ngram_buckets < 0:
        raise ConfigError(f"model.ngram_buckets must be >= 0 (0 = off), got {cfg.model.ngram_buckets}")
    if cfg.model.ngram_order not in (2, 3):
        raise ConfigError(f"model.ngram_order must be 2 or 3, got {cfg.model.ngram_order}")
    if cfg.model.bag_buckets < 0:
        raise ConfigError(f"model.bag_buckets must be >= 0 (0 = off), got {cfg.model.bag_buckets}")
    if cfg.model.bag_order not in (1, 2, 3):
        raise ConfigError(f"model.bag_order must be 1, 2 or 3, got {cfg.model.bag_order}")
    if cfg.model.bag_scale <= 0:
        raise ConfigError(f"model.bag_scale must be > 0, got {cfg.model.bag_scale}")
    if not 0.0 <= cfg.data.val_fraction < 1.0:
        raise ConfigError(f"data.val_fraction must be in [0, 1), got {cfg.data.val_fraction}")
    if not 0.0 <= cfg.train.ema < 1.0:
        raise ConfigError(f"train.ema must be in [0, 1), got {cfg.train.ema}")
    if cfg.train.lr <= 0:
        raise ConfigError(f"train.lr must be > 0, got {cfg.train.lr}")
    ops = {"delete", "swap", "insert", "synonym"}
    if cfg.train.augment != "none" and not set(cfg.train.augment.split(",")) <= ops:
        raise ConfigError(f"train.augment={cfg.train.augment!r}: use none or a comma-separated subset of "
                          f"{', '.join(sorted(ops))}")
    if not 0.0 < cfg.train.augment_alpha <= 0.5:
        raise ConfigError(f"train.augment_alpha must be in (0, 0.5], got {cfg.train.augment_alpha}")


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("sentiment_lab.configs").iterdir() if p.name.endswith(".toml"))


def load_config(preset: str | Path | None = "seed", overrides: list[str] | None = None) -> Config:
    """Load a preset name (configs shipped with the package) or a TOML path, then apply
    `section.key=value` overrides, the way the CLI passes them."""
    raw: dict[str, Any] = {}
    if preset is not None:
        path = Path(preset)
        if path.suffix == ".toml" or path.exists():
            text = require_file(path, ConfigError).read_text(encoding="utf-8")
        else:
            if str(preset) not in preset_names():
                raise ConfigError(f"unknown preset {preset!r}; valid: {', '.join(preset_names())}")
            text = resources.files("sentiment_lab.configs").joinpath(f"{preset}.toml").read_text(encoding="utf-8")
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML in {preset}: {exc}") from None
    cfg = Config.from_dict(raw)
    if isinstance(overrides, str):  # iterating it would read one character at a time
        raise ConfigError(f"overrides must be a list of 'section.key=value' strings, e.g. [{overrides!r}]")
    for item in overrides or []:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"override {item!r} must look like section.key=value (e.g. model.hidden_size=128)")
        dotted, value = item.split("=", 1)
        section, key = dotted.strip().split(".", 1)
        if section not in _sections():
            raise ConfigError(f"unknown config section {section!r}; valid: {', '.join(_sections())}")
        _set(cfg, section, key, value.strip())
    validate(cfg)
    return cfg
