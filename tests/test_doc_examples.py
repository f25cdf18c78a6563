"""The committed examples in docs/examples/ have the format the commands write now.

Each JSON example is compared with what the command that made it (docs/look_inside.md,
docs/compare.md) writes today on the tiny bundle and a tiny IMDB archive: the same keys at
every level and the same kind of value under each (numbers, strings, booleans, lists, objects).
Values differ (another model, other data), the format must not: an example made before a
format change (explain's `score` read 0.2598, P(positive), with no `p_positive`) fails here
until it is remade. Objects keyed by data (method names, word groups, vocabulary sizes) are
compared through their values.
"""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentiment_lab.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
WORDS = "pos:great,wonderful,excellent,brilliant;neg:awful,terrible,boring,dull;ctx:film,movie,plot,story"
SENTENCES = ["This movie is absolutely fantastic and amazing", "The acting was not good at all"]

# example (relative to docs/examples) -> (command that writes it, where its JSON comes out,
# paths of the objects keyed by data). {bundle}, {imdb} and {out} are filled in by the test.
EXPLAIN = (["explain", "-m", "{bundle}", "The first half was dull, but the ending was brilliant.", "--json",
            "--ig-steps", "2", "-o", "{out}"], "stdout", set())
EMBEDDINGS = (["embeddings", "-m", "{bundle}", "--words", WORDS, "--method", "pca", "--top-n", "5", "-o", "{out}"],
              "neighbours.json", {"$.missing"})
COMMANDS = {
    "explain/dull_but_brilliant/explanation.json": EXPLAIN,
    "explain/fantastic_amazing/explanation.json": EXPLAIN,
    "explain/not_good/explanation.json": EXPLAIN,
    "embeddings/neighbours.json": EMBEDDINGS,
    "embeddings/pca/neighbours.json": EMBEDDINGS,
    "embeddings/umap/neighbours.json": EMBEDDINGS,
    "data/data_summary.json": (["data-plots", "-m", "{bundle}", "--data", "{imdb}", "-o", "{out}"],
                               "data_summary.json", {"$.coverage", "$.labels"}),  # labels: the splits the data has
    "errors/errors.json": (["errors", "-m", "{bundle}", "--data", "{imdb}", "--ig-steps", "2", "--examples", "2",
                            "-o", "{out}"], "errors.json", set()),
    "compare/compare.json": (["compare", *SENTENCES, "--methods", "rnn,vader,tfidf,nbsvm,llm-0shot", "-m", "{bundle}",
                              "--data", "{imdb}", "--n", "8", "--train-limit", "16", "--no-cache", "-o", "{out}"],
                             "compare.json", {"$.skipped", "$.notes", "$.agreement", "$.agreement.*", "$.groups",
                                              "$.groups.*", "$.sentences[].cells", "$.predictions"}),
}


def schema(x, maps: set[str], path: str = "$"):
    """The structure of a JSON value: ("dict", {key: schema}), ("map", schema of its values),
    ("list", schema of its items), ("scalar", kinds); None for null, which matches anything."""
    if isinstance(x, dict):
        if path in maps:
            return "map", merge([schema(v, maps, f"{path}.*") for v in x.values()])
        return "dict", {k: schema(v, maps, f"{path}.{k}") for k, v in x.items()}
    if isinstance(x, list):
        return "list", merge([schema(v, maps, f"{path}[]") for v in x])
    if x is None:
        return None
    kind = "bool" if isinstance(x, bool) else "number" if isinstance(x, (int, float)) else type(x).__name__
    return "scalar", frozenset({kind})


def merge(schemas: list):
    """One schema for the items of a list (or the values of a map): the union of their kinds and keys."""
    schemas = [s for s in schemas if s is not None]
    if not schemas:
        return None
    kinds = {s[0] for s in schemas}
    if len(kinds) > 1:
        return "mixed", frozenset(kinds)
    kind = kinds.pop()
    if kind == "scalar":
        return kind, frozenset().union(*(s[1] for s in schemas))
    if kind == "dict":
        keys = dict.fromkeys(k for s in schemas for k in s[1])
        return kind, {k: merge([s[1].get(k) for s in schemas]) for k in keys}
    return kind, merge([s[1] for s in schemas])


def differences(example, now, path: str = "$") -> list[str]:
    """Where the committed example's structure differs from what the command writes now."""
    if example is None or now is None:
        return []
    if example[0] != now[0] or (example[0] in ("scalar", "mixed") and example[1] != now[1]):
        return [f"{path}: {example[0]} {sorted(example[1]) if example[0] == 'scalar' else ''} in the example, "
                f"{now[0]} {sorted(now[1]) if now[0] == 'scalar' else ''} now"]
    if example[0] == "dict":
        out = [f"{path}.{k}: in the example, no longer written" for k in example[1] if k not in now[1]]
        out += [f"{path}.{k}: written now, not in the example" for k in now[1] if k not in example[1]]
        for k in example[1]:
            if k in now[1]:
                out += differences(example[1][k], now[1][k], f"{path}.{k}")
        return out
    if example[0] in ("list", "map"):
        return differences(example[1], now[1], f"{path}[]" if example[0] == "list" else f"{path}.*")
    return []


def test_the_schema_comparison_sees_drift():
    maps = {"$.groups"}
    ref = {"score": 0.9, "p_positive": 0.1, "tokens": ["a"], "groups": {"pos": [1]}, "attention": None}
    same = {"score": 1, "p_positive": 0.3, "tokens": [], "groups": {"neg": [2, 3], "x": []}, "attention": [0.5]}
    assert differences(schema(ref, maps), schema(same, maps)) == []
    old = {"score": 0.2598, "tokens": ["a"], "groups": {"pos": ["1"]}, "attention": None}
    assert differences(schema(old, maps), schema(ref, maps)) == [
        "$.p_positive: written now, not in the example",
        "$.groups.*[]: scalar ['str'] in the example, scalar ['number'] now"]
    assert differences(schema([{"a": 1}], set()), schema([{"a": 1}, {"a": 2, "b": True}], set())) == \
        ["$[].b: written now, not in the example"]


def _imdb(path: Path) -> Path:
    """A tiny aclImdb archive in which a few reviews carry the other label, so that `errors` has
    false positives and false negatives to show."""
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for pol, word, stars in (("pos", "great", 9), ("neg", "awful", 2)):
                for i in range(8):
                    other = "awful" if word == "great" else "great"
                    text = f"A {word if i > 1 else other} film.<br />Really {word if i > 1 else other} plot number {i}."
                    data = text.encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{pol}/{i}_{stars}.txt")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def fresh(tiny_bundle, tmp_path_factory) -> dict[str, dict]:
    """What each command writes now, by example path."""
    tmp = tmp_path_factory.mktemp("examples")
    imdb = _imdb(tmp / "aclImdb_v1.tar.gz")
    out: dict[str, dict] = {}
    done: dict[int, dict] = {}
    mp = pytest.MonkeyPatch()
    mp.delenv("MISTRAL_API_KEY", raising=False)  # compare's llm-0shot is skipped, as in the example
    try:
        for example, (args, where, _) in COMMANDS.items():
            key = id(args)
            if key not in done:
                target = tmp / f"out{len(done)}"
                argv = [a.format(bundle=tiny_bundle, imdb=imdb, out=target) for a in args]
                r = CliRunner().invoke(app, argv)
                assert r.exit_code == 0, (argv, r.output)
                done[key] = json.loads(r.stdout) if where == "stdout" else json.loads((target / where).read_text())
            out[example] = done[key]
    finally:
        mp.undo()
    return out


def test_every_committed_json_example_has_a_command_here():
    committed = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json"))
    assert committed == sorted(COMMANDS)


@pytest.mark.parametrize("example", sorted(COMMANDS))
def test_committed_example_has_the_current_format(example, fresh):
    _, _, maps = COMMANDS[example]
    committed = json.loads((EXAMPLES / example).read_text())
    drift = differences(schema(committed, maps), schema(fresh[example], maps))
    assert drift == [], (f"docs/examples/{example} no longer has the format its command writes; remake it with "
                         f"the command in docs/look_inside.md or docs/compare.md:\n" + "\n".join(drift))


def test_the_fresh_outputs_have_something_to_compare(fresh):
    """Empty lists and nulls match anything: the tiny runs must fill what the examples fill."""
    errors = fresh["errors/errors.json"]
    assert errors["most_confident_false_positives"] and errors["most_confident_false_negatives"]
    assert errors["most_confident_false_negatives"][0]["top_positive_tokens"] and errors["by_rating"]
    compare = fresh["compare/compare.json"]
    assert compare["methods"] == ["rnn", "vader", "tfidf", "nbsvm"] and list(compare["skipped"]) == ["llm-0shot"]
    assert [s["name"] for s in compare["samples"]] == ["imdb", "challenge", "sentences"]
    explanation = fresh["explain/not_good/explanation.json"]
    assert explanation["gates"] and explanation["hidden"] and explanation["meta"]
    assert len(fresh["embeddings/neighbours.json"]["words"]) >= 3 and fresh["data/data_summary.json"]["coverage"]
