"""Property-based tests of the bundle loader (inference/bundle.py read_meta and load_parts on
generated config.json contents and file sets) and of the config loader (load_config on
generated TOML and dotted overrides): any input gives a result or a one-line error of the
package's own classes (BundleError, ConfigError), never another exception, and leaves the
folder it read as it was. Bounded and derandomized, as test_fuzz_data.py."""
from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from test_fuzz_cases import fuzz_settings, run_case
from sentiment_lab.config import Config, _fields, _sections

FUZZ = fuzz_settings()
DEEP = "[" * 100_000


run = run_case


ODD_NUMBER = st.sampled_from([0, -1, 1, 2**31, 2**63, 2**70, 10**400, 1e308, -1e308, 1e-320, float("nan"),
                              float("inf"), float("-inf"), 0.5, True, False])
ODD_STRING = st.sampled_from(["", "none", "null", "nan", "inf", "1e400", "-1", "0x10", "1_000", "lstm.v1", "gru.v9",
                              "\x00", "a\nb", "tail", "head+tail", "bpe", "english", "delete,swap", "\udcff", "9" * 5000])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | ODD_NUMBER
                    | ODD_STRING,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


# --- the bundle loader --------------------------------------------------------------------------

def _setting_paths() -> list[list[str]]:
    return [["config", section, key] for section in _sections() for key in _fields(section)]


META_PATH = st.one_of(
    st.sampled_from(_setting_paths()),
    st.sampled_from([["format_version"], ["config"], ["config", "text"], ["config", "model"], ["config", "extra"],
                     ["config", "text", "unknown"], ["sha256"], ["sha256", "tokenizer.json"], ["sha256", "../x"],
                     ["sha256", "model.onnx"], ["labels"], ["vocab_size"], ["onnx"], ["manifest_sha256"], []]))
FILE_CHANGE = st.one_of(
    st.builds(lambda n: {"cut": n}, st.integers(0, 2000)),
    st.just({"delete": True}),
    st.builds(lambda d: {"data": d}, st.one_of(st.binary(max_size=40), JSON.map(lambda v: json.dumps(v).encode()),
                                               st.just(b'{"model": {"type": "WordLevel"}}'), st.just(DEEP.encode()))))
BUNDLE = st.one_of(
    # config.json's bytes as they come: any text, any JSON, a cut or nested copy of the real one
    st.fixed_dictionaries({"raw": st.one_of(
        st.binary(max_size=60), JSON.map(lambda v: json.dumps(v, allow_nan=True)), st.just(DEEP),
        st.just("9" * 5000), st.just("\ufeff{}"), st.just('{"format_version": 1, "a": ' + "9" * 5000 + "}"),
        st.integers(0, 1800).map(lambda n: {"cut_real": n}))}),
    # the real config.json with values changed, then sealed again (so that the checks behind the
    # manifest's own checksum are reached), and files changed with their checksums recomputed
    st.fixed_dictionaries(
        {"patch": st.lists(st.tuples(META_PATH, JSON).map(lambda pv: [*pv[0], pv[1]]), min_size=1, max_size=3)},
        optional={"seal": st.booleans(), "rehash": st.booleans(),
                  "files": st.dictionaries(st.sampled_from(["tokenizer.json", "metrics.json", "history.json",
                                                             "model.safetensors", "model.onnx", "README.md"]),
                                           FILE_CHANGE, max_size=2)}),
    st.fixed_dictionaries({"files": st.dictionaries(st.sampled_from(["tokenizer.json", "model.safetensors",
                                                                     "metrics.json"]), FILE_CHANGE, min_size=1,
                                                    max_size=2)},
                          optional={"rehash": st.booleans()}),
)


@FUZZ
@given(spec=BUNDLE, call=st.sampled_from(["load_parts", "load_parts", "read_meta"]))
def test_bundle_loader(spec, call):
    if isinstance(spec.get("raw"), dict):  # a prefix of the shipped config.json
        from sentiment_lab.inference.shipped import shipped_bundle

        spec = {**spec, "raw": (shipped_bundle("imdb") / "config.json").read_bytes()[: spec["raw"]["cut_real"]]}
    result = run({"loader": "bundle", "call": call, **spec})
    if not isinstance(result, Exception) and call == "load_parts":
        cfg, encoder, meta = result
        assert isinstance(cfg, Config) and isinstance(meta, dict)


# --- the config loader --------------------------------------------------------------------------

def _toml_key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "_-" for c in key) and key.isascii() else json.dumps(key)


def toml_value(value) -> str:
    """A TOML literal for a JSON-like value (NaN and infinities as TOML writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # TOML's basic strings take JSON's escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return '""'


def toml_document(doc: dict) -> str:
    lines = [f"{_toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for section, values in doc.items():
        if isinstance(values, dict):
            lines.append(f"[{_toml_key(section)}]")
            lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


SECTION = st.sampled_from([*_sections(), "optim", "", "a\u2028b"])
KEY = st.one_of(st.sampled_from(sorted({k for s in _sections() for k in _fields(s)})), st.text(max_size=6),
                st.sampled_from(["x\u0085", "\n", "\x00"]))
TOML_VALUE = st.one_of(ODD_NUMBER, ODD_STRING, JSON, st.integers(), st.floats())
DOC = st.dictionaries(SECTION, st.one_of(st.dictionaries(KEY, TOML_VALUE, max_size=4), TOML_VALUE), max_size=4)
EXTENDS = st.one_of(st.none(), st.sampled_from(["seed", "default", "best", "nope", "base.toml", "config.toml",
                                                 "missing.toml", "", "\x00", "/", "../../etc/passwd.toml",
                                                 "x\u0085y.toml", "a\nb"]),
                    ODD_NUMBER, JSON)


@st.composite
def config_files(draw) -> dict:
    """config.toml (maybe extending base.toml, a shipped preset or itself) as text: generated
    tables, or arbitrary text now and then."""
    files = {}
    for name in ("config.toml", "base.toml"):
        if draw(st.integers(0, 7)) == 0:
            files[name] = draw(st.one_of(st.text(max_size=60), st.just("a = " + DEEP), st.just("a = " + "9" * 5000),
                                         st.binary(max_size=30).map(lambda b: b.decode("latin-1"))))
            continue
        doc = draw(DOC)
        base = draw(EXTENDS)
        if base is not None:
            doc = {"extends": base, **doc}
        files[name] = toml_document(doc)
    return files


OVERRIDE = st.one_of(
    st.builds(lambda s, k, v: f"{s}.{k}={v}", SECTION, KEY,
              st.one_of(ODD_STRING, st.text(max_size=8), TOML_VALUE.map(lambda v: json.dumps(v, allow_nan=True)))),
    st.text(max_size=12))


@FUZZ
@given(files=config_files(), overrides=st.one_of(st.none(), st.lists(OVERRIDE, max_size=3)),
       preset=st.sampled_from(["file", "file", "file", "seed", "default", "nope", "\x00", "file:missing.toml",
                               "file:base.toml"]))
def test_config_loader(files, overrides, preset):
    result = run({"loader": "config", "files": {k: v.encode("utf-8", "surrogatepass") for k, v in files.items()},
                  "overrides": overrides, "preset": preset})
    if not isinstance(result, Exception):
        assert isinstance(result, Config)
