"""Typed configuration: dataclasses, TOML presets and dotted command-line overrides.

A run is fully described by one `Config`; it is written to the run directory and into
every bundle (`Config.to_dict`, config.json), so a model can always be traced back to the
settings that made it. Each setting declares its allowed values or range beside it
(`setting(...)`); `validate` checks them all, once, with messages that list the valid keys
and values. The shipped presets (configs/) are default.toml, which lists every setting, and
files that `extends` it (or another preset) and hold only their differences.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sentiment_lab.exceptions import ConfigError


# Bounds. A setting's range (ge/gt/le/lt) and choices say what its values mean; a cap only
# keeps an absurd value (a typo, or `hidden_size = 1e23` in a bundle's config.json, which
# torch met with a bare TypeError) to a one-line ConfigError instead of a traceback from torch,
# numpy or the tokenizer library. No preset, test or stored run comes near a cap: the largest
# used are 30,000 words, 800 tokens, 256-d vectors, 192 units, 2 layers, 2^19 bag buckets,
# batches of 512, 4 threads and seed 47. Every float must also be finite (`lr = inf` was
# accepted). Counts of epochs, steps, patience and rows have no cap: a large one only means
# a long run or no limit, and Python's integers do not overflow.
MAX_WIDTH = 2**16  # embedding_dim, hidden_size, ngram_dim: the widest language models use ~2^14; 2^16 x 2^16 weights are 16 GiB
MAX_ROWS = 2**24  # vocab_size, ngram_buckets, bag_buckets: rows of a lookup table (IMDB has ~10^5 distinct words)
MAX_TOKENS = 2**20  # max_len: IMDB's longest review is ~2,500 words; a million tokens is a long novel
MAX_LAYERS = 64  # num_layers: 2 is the deepest measured
MAX_BATCH = 2**20  # batch_size, eval_batch_size: IMDB's whole training split is 25,000 reviews
MAX_THREADS = 1024  # cpu_shards: one thread per shard (auto uses at most 4)
MAX_UINT32 = 2**32 - 1  # seed: scikit-learn's random_state must lie in [0, 2^32 - 1]; min_frequency likewise (the tokenizers library's unsigned counts)


def setting(default: Any, **constraints: Any) -> Any:
    """A dataclass field with its constraints beside it, read by `validate`:
    choices=(...): the allowed values; subset_of=(...): "none" or a comma-separated subset
    (a TOML array is accepted too); ge/gt/le/lt: the range (>=, >, <=, <); cap: an upper
    sanity bound (see above); note: what the message adds in brackets, e.g. "0 = off";
    omit_default=True: to_dict leaves the setting out while it holds its default (a setting added
    after bundles existed, so that the config.json of every run that does not use it stays as it
    was: the same text, read back to the same Config)."""
    return field(default=default, metadata=constraints)


@dataclass
class DataConfig:
    source: str = "imdb"  # "imdb" (archive/folder/cache), "synthetic", a named dataset or mixture ("sst2", "imdb+sst2": docs/datasets.md), or a CSV/TSV/JSONL/Parquet file
    path: str | None = None  # archive, aclImdb/ folder or table; None = cache/download
    test_path: str | None = None  # optional separate test table
    text_column: str = "text"
    label_column: str = "label"
    rating_threshold: float | None = None  # star ratings >= threshold are positive
    val_fraction: float = setting(0.2, ge=0, lt=1)  # stratified, seeded split carved out of train; 0 = none (a final refit on all of train)
    val_split: str = setting("random", choices=("random", "blocks"))  # blocks: whole runs of consecutive ids (IMDB: a movie's reviews) per label
    limit: int | None = setting(None, ge=1, note="leave it unset for every row")  # keep at most this many train (and test) rows: quick runs
    caps: dict[str, int] | None = setting(None, ge=1, note="leave a source out for every row")  # a mixture's training rows kept per source: {sst2 = 20000} (CLI: sst2=20000,imdb=5000); data.limit caps the others
    weights: dict[str, float] | None = setting(None, gt=0, note="leave a source out of data.source instead")  # each source's share of the mixed training rows: {imdb = 1, sst2 = 1}; every source needs one; unset = every row once
    unlabeled: str = setting("none", choices=("none", "imdb-unsup"), omit_default=True)  # unlabeled texts the word vectors (model.pretrained_vectors) also learn from; the classifier never reads them
    negation: int = setting(0, ge=0, le=10, omit_default=True)  # negated versions added per short polar training text, label flipped ("is boring" -> "is not boring"; data/negation.py); 0 = none; English only


@dataclass
class TextConfig:
    level: str = setting("word", choices=("word", "bpe"))
    vocab_size: int = setting(5000, ge=3, cap=MAX_ROWS, note="[PAD], [UNK] and one word")  # including [PAD]=0 and [UNK]=1
    max_len: int = setting(200, gt=0, cap=MAX_TOKENS)  # tokens kept per review
    truncation: str = setting("tail", choices=("head", "tail", "head+tail"))  # which tokens survive truncation
    min_frequency: int = setting(1, ge=0, cap=MAX_UINT32)  # a word seen fewer times in training is [UNK] (0 and 1 keep every word)
    stopwords: str = setting("none", choices=("none", "english"))  # function words the word-level tokenizer drops (text.STOPWORDS)
    language: str = setting("en", choices=("en", "fr"), omit_default=True)  # the reviews' language: fr keeps elisions as tokens (l' amour) and normalizes ’ to '
    proper_nouns: str = setting("keep", choices=("keep", "unknown"), omit_default=True)  # unknown: words the training texts capitalise mid-sentence (names, places, peoples) read as [UNK] (text/proper_nouns.py)


@dataclass
class ModelConfig:
    arch: str = "lstm.v1"  # registry name: versioned so old bundles keep loading (models/ checks it)
    embedding_dim: int = setting(128, gt=0, cap=MAX_WIDTH)
    hidden_size: int = setting(64, gt=0, cap=MAX_WIDTH)
    num_layers: int = setting(1, gt=0, cap=MAX_LAYERS)
    bidirectional: bool = False
    pooling: str = setting("last", choices=("last", "max", "mean", "attention"))
    input_dropout: float = setting(0.2, ge=0, lt=1)  # dropout on the embeddings (Keras LSTM `dropout`)
    recurrent_dropout: float = setting(0.2, ge=0, lt=1)  # DropConnect on hidden-to-hidden weights
    dropout: float = setting(0.5, ge=0, lt=1)  # before the output layer
    layer_dropout: float = setting(0.2, ge=0, lt=1)  # between stacked layers (num_layers > 1)
    pretrained_vectors: str = setting("none", choices=("none", "word2vec", "fasttext"))  # trained on the training split, init the embedding
    freeze_embeddings: bool = False  # keep pretrained vectors fixed
    ngram_buckets: int = setting(0, ge=0, cap=MAX_ROWS, note="0 = off")  # hashed n-gram vectors appended to each token's vector (0 = words only)
    ngram_dim: int = setting(32, gt=0, cap=MAX_WIDTH)  # size of those n-gram vectors
    ngram_order: int = setting(2, choices=(2, 3))  # 2: the bigram ending at each token; 3: the trigram too (same table)
    bag_buckets: int = setting(0, ge=0, cap=MAX_ROWS, note="0 = off")  # a linear term over the review's hashed n-grams, added to the logit
    bag_order: int = setting(2, choices=(1, 2, 3))  # n-grams in that term: 1 words, 2 and bigrams, 3 and trigrams
    bag_scale: float = setting(30.0, gt=0)  # multiplies the term's weights: Adam then moves them this much faster


@dataclass
class TrainConfig:
    epochs: int = setting(3, gt=0)
    batch_size: int = setting(128, gt=0, cap=MAX_BATCH)
    lr: float = setting(1e-3, gt=0)
    lr_schedule: str = setting("constant", choices=("constant", "linear", "cosine"))  # linear, cosine: decay to 0 over the planned steps
    weight_decay: float = setting(0.0, ge=0)  # Adam's (it raises on a negative one)
    grad_clip: float = setting(0.0, ge=0, note="0 = off")  # clip the gradient norm (the notebook clips nothing)
    ema: float = setting(0.0, ge=0, lt=1)  # decay of an exponential moving average of the weights, validated and kept instead (0 = off)
    patience: int = setting(2, ge=0)  # early stopping: epochs without validation improvement
    seed: int = setting(42, ge=0, cap=MAX_UINT32)
    device: str = setting("auto", choices=("auto", "cpu", "cuda", "mps"))
    precision: str = setting("auto", choices=("auto", "fp32", "bf16"))  # auto = bf16 on CUDA, fp32 on CPU
    max_steps: int | None = setting(None, ge=0, note="unset or 0 = no limit")  # stop after this many optimizer steps (tests)
    augment: str = setting("none", subset_of=("delete", "swap", "insert", "synonym", "counterfactual"))  # EDA on training reviews: "delete,swap" or ["delete", "swap"]; counterfactual swaps attribute words (text/counterfactual.py)
    augment_alpha: float = setting(0.1, gt=0, le=0.5)  # share of a review's tokens each augmentation operation touches
    eval_batch_size: int = setting(0, ge=0, cap=MAX_BATCH, note="0 = auto")  # reviews per validation/test batch (0 = auto: 64 on CPU, 512 on GPU; batching.py)
    adversarial: float = setting(0.0, ge=0, le=1, note="a share of the input vectors' norm")  # adversarial training: input vectors moved by this share of their norm (0 = off; adversarial.py)
    virtual_adversarial: float = setting(0.0, ge=0, le=1, note="a share of the input vectors' norm")  # virtual adversarial training (no labels needed), same scale (0 = off)
    pretrain_epochs: int = setting(0, ge=0, note="0 = off")  # epochs of language-model pretraining on the training texts first (pretrain.py)
    cpu_shards: int = setting(0, ge=0, cap=MAX_THREADS, note="0 = auto, 1 = off")  # CPU: split each batch across this many worker threads (0 = auto: one per torch thread, at most 4)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    text: TextConfig = field(default_factory=TextConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for section, values in out.items():
            for f in dataclasses.fields(getattr(self, section)):
                if f.metadata.get("omit_default") and values[f.name] == f.default:
                    del values[f.name]
        return out

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


def _sections() -> dict[str, type]:
    return {f.name: f.default_factory for f in dataclasses.fields(Config)}  # type: ignore[misc]


def _fields(section: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """A section's settings: name -> (annotated type, constraints)."""
    cls = _sections()[section]
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], dict(f.metadata)) for f in dataclasses.fields(cls)}


def _coerce(name: str, tp: Any, value: Any, constraints: dict[str, Any] | None = None) -> Any:
    """Convert `value` (from TOML, JSON or a CLI string) to the annotated type, or fail clearly.
    A subset setting (train.augment) also takes a list, kept as today's comma-separated string
    so that config.json does not change: ["delete", "swap"] -> "delete,swap", [] -> "none"."""
    if constraints and "subset_of" in constraints and isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a string or a list of strings, got {value!r}")
        return ",".join(value) or "none"
    args = typing.get_args(tp)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        tp = next(a for a in args if a is not type(None))
    if typing.get_origin(tp) is dict:
        return _coerce_per_source(name, typing.get_args(tp)[1], value)
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
    except (TypeError, ValueError, OverflowError):  # OverflowError: float() of an integer past 1e308
        pass
    else:
        return value
    raise ConfigError(f"{name} must be {getattr(tp, '__name__', tp)}, got {value!r}")


def _coerce_per_source(name: str, tp: type, value: Any) -> dict[str, Any] | None:
    """A number per source (data.caps, data.weights): a TOML table {sst2 = 20000}, or on the
    command line "sst2=20000,imdb=5000". Names are read as the mixture reads them (stripped,
    lower case); an empty table is unset, so config.json has one spelling for "none"."""
    example = f"{name}=imdb=5000,sst2=20000 or, in TOML, {name.split('.')[-1]} = {{imdb = 5000, sst2 = 20000}}"
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ConfigError(f"{name} must name a number per source, e.g. {example}; got {_shown(value)}")
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise ConfigError(f"{name} must name a number per source, e.g. {example}; got {_shown(repr(value))}")
    out: dict[str, Any] = {}
    for key, number in pairs:
        source = str(key).strip().lower()
        if not source:
            raise ConfigError(f"{name} has an empty source name, e.g. {example}")
        if source in out:
            raise ConfigError(f"{name} names {_shown(source)} twice; give each source one value")
        out[source] = _coerce(f"{name}.{_shown(source)}", tp, number.strip() if isinstance(number, str) else number)
    return out or None


def _shown(name: object) -> str:
    """A key or file name as a one-line message shows it: quoted when it holds a line break
    (U+0085 and U+2028 are ones too) or another unprintable character."""
    text = str(name)
    return text if text.isprintable() else repr(text)


def _set(cfg: Config, section: str, key: str, value: Any) -> None:
    fields = _fields(section)
    if key not in fields:
        raise ConfigError(f"unknown config key {_shown(f'{section}.{key}')}; valid: {', '.join(fields)}")
    tp, constraints = fields[key]
    setattr(getattr(cfg, section), key, _coerce(f"{section}.{key}", tp, value, constraints))


def _one_of(values: tuple[Any, ...]) -> str:
    """(1, 2, 3) -> "1, 2 or 3"."""
    return ", ".join(map(str, values[:-1])) + f" or {values[-1]}" if len(values) > 1 else str(values[0])


def _range(c: dict[str, Any]) -> str:
    """The range a setting's constraints allow, in words: "in [0, 1)", "> 0", ">= 3"."""
    low = ("[", c["ge"]) if "ge" in c else ("(", c["gt"]) if "gt" in c else None
    high = (c["le"], "]") if "le" in c else (c["lt"], ")") if "lt" in c else None
    if low and high:
        return f"in {low[0]}{low[1]}, {high[0]}{high[1]}"
    if low:
        return f"{'>=' if low[0] == '[' else '>'} {low[1]}"
    return f"{'<=' if high[1] == ']' else '<'} {high[0]}" if high else ""


def _check(name: str, value: Any, c: dict[str, Any]) -> None:
    """One setting against the constraints declared beside it."""
    if value is None:  # an optional setting left unset
        return
    if isinstance(value, dict):  # a number per source (data.caps, data.weights): each one checked
        for key, one in value.items():
            _check(f"{name}.{_shown(key)}", one, c)
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}")
    if "choices" in c and value not in c["choices"]:
        if all(isinstance(v, str) for v in c["choices"]):
            raise ConfigError(f"{name}={value!r} is not valid; choose one of {', '.join(c['choices'])}")
        raise ConfigError(f"{name} must be {_one_of(c['choices'])}, got {value}")
    if "subset_of" in c and value != "none" and not set(value.split(",")) <= set(c["subset_of"]):
        raise ConfigError(f"{name}={value!r}: use none or a comma-separated subset (or a TOML array) of "
                          f"{', '.join(sorted(c['subset_of']))}")
    below = ("ge" in c and value < c["ge"]) or ("gt" in c and value <= c["gt"])
    above = ("le" in c and value > c["le"]) or ("lt" in c and value >= c["lt"])
    if below or above:
        note = f" ({c['note']})" if "note" in c else ""
        raise ConfigError(f"{name} must be {_range(c)}{note}, got {value}")
    if "cap" in c and value > c["cap"]:
        raise ConfigError(f"{name} must be {_range(c)} and <= {c['cap']}, got {value}")


def validate(cfg: Config) -> None:
    """Check every setting against the constraints declared beside it (`setting(...)`), then
    the few rules that tie two settings together."""
    for section in _sections():
        for key, (_, constraints) in _fields(section).items():
            _check(f"{section}.{key}", getattr(getattr(cfg, section), key), constraints)
    if cfg.text.stopwords != "none" and cfg.text.level != "word":
        raise ConfigError(f"text.stopwords={cfg.text.stopwords!r} needs text.level='word'")
    if cfg.text.proper_nouns != "keep" and cfg.text.level != "word":
        raise ConfigError(f"text.proper_nouns={cfg.text.proper_nouns!r} needs text.level='word'")
    if cfg.text.stopwords != "none" and cfg.text.language != "en":
        raise ConfigError(f"text.stopwords={cfg.text.stopwords!r} is an English list; with "
                          f"text.language={cfg.text.language!r} use text.stopwords='none'")
    _check_mixture(cfg.data)
    if cfg.data.negation and cfg.text.language != "en":
        raise ConfigError(f"data.negation writes English negations (is -> is not); with "
                          f"text.language={cfg.text.language!r} leave it off")
    if cfg.data.unlabeled != "none" and cfg.model.pretrained_vectors == "none":
        raise ConfigError(f"data.unlabeled={cfg.data.unlabeled} is read only by word-vector training; set "
                          f"model.pretrained_vectors=word2vec (or fasttext) too, or leave data.unlabeled unset")


def _check_mixture(d: DataConfig) -> None:
    """data.caps and data.weights name sources of data.source, a `+`-joined mixture of named
    datasets ("imdb+sst2+amazon-blitzer"; data/mixture.py reads it), each named once, and
    weights name them all. Whether each name is a known dataset is the data stage's check
    (data.registry), still before anything is read."""
    if d.caps is None and d.weights is None:
        return
    names = [part.strip().lower() for part in d.source.split("+")]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"data.source={_shown(d.source)} names {', '.join(map(_shown, twice))} more than once; "
                          f"name each source once (give it a larger weight to draw more of it)")
    for what, given in (("caps", d.caps), ("weights", d.weights)):
        stray = [k for k in given or {} if k not in names]
        if stray:
            raise ConfigError(f"data.{what} names {', '.join(map(_shown, stray))}, which data.source="
                              f"{_shown(d.source)} does not mix; name only its sources ({', '.join(map(_shown, names))})")
    missing = [n for n in names if d.weights and n not in d.weights]
    if missing:
        raise ConfigError(f"data.weights has no weight for {', '.join(map(_shown, missing))}; give every source "
                          f"of data.source={_shown(d.source)} one (or unset data.weights for every row once)")


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("sentiment_lab.configs").iterdir() if p.name.endswith(".toml"))


def _read_preset(preset: str | Path, relative_to: Path | None = None,
                 chain: tuple[str, ...] = ()) -> dict[str, Any]:
    """A preset's settings as a raw dict, with whatever it `extends` merged underneath.

    `preset` is a shipped preset's name or a TOML path. A file may start with
    `extends = "NAME"` (a shipped preset) or `extends = "other.toml"` (relative to the file): it
    then holds only the settings in which it differs from that one (nanoGPT's override files),
    merged key by key within each table. Without `extends` a file is read over the dataclass
    defaults, as every file was before; default.toml does that and lists every setting."""
    path = Path(preset)
    if relative_to is not None:  # named by `extends`: a .toml path is relative to the file naming it
        is_file = path.suffix == ".toml"
        path = path if path.is_absolute() else relative_to / path
    else:
        is_file = path.suffix == ".toml" or path.exists()
    if is_file:
        label, folder = _shown(path), path.parent
        if path.is_dir() or not path.is_file():  # require_file's messages, with the name quoted when unprintable
            raise ConfigError(f"{label} is a folder; give a file" if path.is_dir() else f"file not found: {label}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{label} is not valid UTF-8 (TOML files are UTF-8)") from None
        except OSError as exc:
            raise ConfigError(f"cannot read {label}: {exc.strerror or exc}") from None
    else:
        if str(preset) not in preset_names():
            raise ConfigError(f"unknown preset {preset!r}; valid: {', '.join(preset_names())}")
        text = resources.files("sentiment_lab.configs").joinpath(f"{preset}.toml").read_text(encoding="utf-8")
        label, folder = str(preset), None
    key = str(path.resolve()) if is_file else f"preset {preset}"
    if key in chain:
        raise ConfigError(f"presets extend each other in a circle: {' -> '.join(map(_shown, [*chain, key]))}")
    try:
        raw = tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        # TOMLDecodeError is a ValueError, as is int()'s refusal of an integer of over 4,300 digits;
        # RecursionError: arrays nested thousands deep
        raise ConfigError(f"invalid TOML in {label}: {' '.join(str(exc).split()) or type(exc).__name__}") from None
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base:
        raise ConfigError(f"extends in {label} must be a preset name or a .toml path, got {base!r}")
    merged = _read_preset(base, folder if folder is not None else Path.cwd(), (*chain, key))
    for section, values in raw.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:  # not a table: Config.from_dict says so
            merged[section] = values
    return merged


def load_config(preset: str | Path | None = "seed", overrides: list[str] | None = None) -> Config:
    """Load a preset name (configs shipped with the package) or a TOML path, then apply
    `section.key=value` overrides, the way the CLI passes them. A preset or file may
    `extends` another and hold only its differences (see `_read_preset`)."""
    raw: dict[str, Any] = _read_preset(preset) if preset is not None else {}
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
