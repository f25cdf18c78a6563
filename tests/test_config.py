import pytest

from sentiment_lab.config import Config, load_config, preset_names
from sentiment_lab.exceptions import ConfigError


def test_seed_preset_is_the_notebook():
    cfg = load_config("seed")
    assert (cfg.text.vocab_size, cfg.text.max_len, cfg.model.embedding_dim, cfg.model.hidden_size) == (5000, 200, 128, 64)
    assert (cfg.model.input_dropout, cfg.model.recurrent_dropout, cfg.model.dropout) == (0.2, 0.2, 0.5)
    assert (cfg.train.epochs, cfg.train.batch_size) == (3, 128)
    assert "seed" in preset_names()


def test_overrides_are_typed():
    cfg = load_config("seed", ["model.hidden_size=128", "model.bidirectional=true", "train.lr=0.003",
                               "data.limit=none", "text.truncation=head+tail"])
    assert cfg.model.hidden_size == 128 and cfg.model.bidirectional is True
    assert cfg.train.lr == 0.003 and cfg.data.limit is None and cfg.text.truncation == "head+tail"


@pytest.mark.parametrize("override, message", [
    ("model.hiden_size=3", "unknown config key model.hiden_size"),
    ("modle.hidden_size=3", "unknown config section"),
    ("model.hidden_size=big", "model.hidden_size must be int"),
    ("model.hidden_size=1.5", "model.hidden_size must be int"),
    ("text.truncation=middle", "choose one of head, tail, head+tail"),
    ("model.dropout=1.5", "model.dropout must be in [0, 1)"),
    ("model.layer_dropout=1.5", "model.layer_dropout must be in [0, 1)"),
    ("hidden_size", "must look like section.key=value"),
    ("model.ngram_order=4", "model.ngram_order must be 2 or 3"),
    ("model.ngram_buckets=-1", "model.ngram_buckets must be >= 0"),
    ("model.ngram_dim=0", "model.ngram_dim must be > 0"),
    ("model.bag_buckets=-1", "model.bag_buckets must be >= 0"),
    ("model.bag_order=4", "model.bag_order must be 1, 2 or 3"),
    ("model.bag_scale=0", "model.bag_scale must be > 0"),
    ("text.stopwords=french", "choose one of none, english"),
    ("train.cpu_shards=-1", "train.cpu_shards must be >= 0 (0 = auto, 1 = off)"),
    ("train.eval_batch_size=-1", "train.eval_batch_size must be >= 0 (0 = auto)"),
])
def test_bad_overrides_fail_clearly(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(")", r"\)").replace("(", r"\(").replace("+", r"\+")):
        load_config("seed", [override])


def test_stopwords_need_the_word_level():
    with pytest.raises(ConfigError, match="text.stopwords='english' needs text.level='word'"):
        load_config("seed", ["text.level=bpe", "text.stopwords=english"])


def test_toml_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nhidden_size = 'x'\n")
    with pytest.raises(ConfigError, match="must be int"):
        load_config(bad)
    bad.write_text("[model\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config("nope")


def test_round_trip_dict():
    cfg = load_config("seed", ["model.hidden_size=7"])
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_every_preset_loads_and_comments_every_setting():
    from importlib import resources

    from sentiment_lab.config import load_config

    files = [f for f in resources.files("sentiment_lab.configs").iterdir() if f.name.endswith(".toml")]
    assert {"seed", "default", "best", "rnn", "gru", "bilstm", "stacked_lstm", "bilstm_attention"} <= {f.name[:-5] for f in files}
    for f in files:
        load_config(f.name[:-5])
        for line in f.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                assert "#" in line, f"{f.name}: setting without a comment: {line}"


def test_every_public_name_is_the_object_not_a_module():
    """`from sentiment_lab import X` must give the function/class, even after every submodule
    has been imported (importing a submodule binds its name on the package, which would shadow
    a public function of the same name). Run in a fresh interpreter: import order matters."""
    import subprocess
    import sys

    code = ("import importlib, types, sentiment_lab as s\n"
            "for n in s._API: importlib.import_module(s._API[n])\n"
            "bad = [n for n in s._API if isinstance(getattr(s, n), types.ModuleType)]\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_overrides_must_be_a_list():
    """A bare string was read one character at a time: "override 't' must look like ..."."""
    with pytest.raises(ConfigError, match="must be a list of 'section.key=value' strings"):
        load_config("seed", "train.epochs=2")


@pytest.mark.parametrize("override, message", [
    ("train.lr=inf", "train.lr must be a finite number, got inf"),
    ("train.lr=nan", "train.lr must be a finite number, got nan"),
    ("data.rating_threshold=-inf", "data.rating_threshold must be a finite number"),
    ("model.hidden_size=100000", "model.hidden_size must be > 0 and <= 65536, got 100000"),
    ("text.vocab_size=2", "text.vocab_size must be >= 3 ([PAD], [UNK] and one word), got 2"),
    ("text.max_len=0", "text.max_len must be > 0, got 0"),
    ("model.num_layers=65", "model.num_layers must be > 0 and <= 64"),
    ("train.seed=-1", "train.seed must be >= 0, got -1"),
    ("train.seed=4294967296", "train.seed must be >= 0 and <= 4294967295"),
    ("train.weight_decay=-0.1", "train.weight_decay must be >= 0"),
    ("train.grad_clip=-1", "train.grad_clip must be >= 0 (0 = off)"),
    ("train.patience=-1", "train.patience must be >= 0"),
    ("text.min_frequency=-1", "text.min_frequency must be >= 0"),
    ("train.augment_alpha=0", "train.augment_alpha must be in (0, 0.5], got 0.0"),
    ("train.lr_schedule=step", "train.lr_schedule='step' is not valid; choose one of constant, linear, cosine"),
])
def test_new_bounds_fail_in_one_line(override, message):
    with pytest.raises(ConfigError) as info:
        load_config("seed", [override])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_absurd_size_in_a_bundles_config_json_is_a_config_error():
    """`hidden_size = 1e23` in a bundle's config.json came through as the integer 10^23 and
    torch raised a bare TypeError building the model; `lr = inf` trained on."""
    raw = load_config("seed").to_dict()
    raw["model"]["hidden_size"] = 1e23
    with pytest.raises(ConfigError, match=r"model.hidden_size must be > 0 and <= 65536, got 99999999999999991611392"):
        Config.from_dict(raw)
    raw = load_config("seed").to_dict()
    raw["train"]["lr"] = float("inf")
    with pytest.raises(ConfigError, match="train.lr must be a finite number"):
        Config.from_dict(raw)


def test_toml_inf_is_refused(tmp_path):
    path = tmp_path / "inf.toml"
    path.write_text("[train]\nlr = inf\n")
    with pytest.raises(ConfigError, match="train.lr must be a finite number, got inf"):
        load_config(path)


def test_every_number_declares_its_range_beside_it():
    """Constraints live next to the fields (config.setting); a new numeric setting without one
    would be accepted at any value, infinity included."""
    import dataclasses
    import typing

    from sentiment_lab.config import DataConfig, ModelConfig, TextConfig, TrainConfig

    for cls in (DataConfig, TextConfig, ModelConfig, TrainConfig):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            numeric = {int, float} & {tp, *typing.get_args(tp)}
            if numeric and f.name != "rating_threshold":  # a rating scale's threshold: any finite number
                assert {"choices", "ge", "gt"} & set(f.metadata), f"{cls.__name__}.{f.name} declares no range"


@pytest.mark.parametrize("toml, expected", [
    ('augment = ["delete", "swap"]', "delete,swap"),
    ('augment = "delete,swap"', "delete,swap"),
    ('augment = ["synonym"]', "synonym"),
    ('augment = []', "none"),
    ('augment = ["none"]', "none"),
])
def test_augment_takes_a_toml_array_and_stays_a_string(tmp_path, toml, expected):
    """The resolved value stays today's comma-separated string, so config.json keeps its format."""
    path = tmp_path / "aug.toml"
    path.write_text(f"[train]\n{toml}\n")
    cfg = load_config(path)
    assert cfg.train.augment == expected and cfg.to_dict()["train"]["augment"] == expected
    assert Config.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("toml, message", [
    ('augment = ["delete", "shuffle"]', "train.augment='delete,shuffle': use none or a comma-separated subset"),
    ('augment = ["delete", 3]', "train.augment must be a string or a list of strings"),
    ('epochs = [3]', "train.epochs must be int"),
])
def test_bad_augment_arrays_fail_clearly(tmp_path, toml, message):
    path = tmp_path / "aug.toml"
    path.write_text(f"[train]\n{toml}\n")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(path)
