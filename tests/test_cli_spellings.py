"""One CLI vocabulary (cli/_options.py): `-o/--output` for what a command writes, `--llm-model` for an
LLM's name, `-n/--examples` for how many examples it shows. The new names work, and so do the old
ones, hidden from --help: `train --run-dir`, `explain --out-dir`, `experiment --out`, `download --dest`,
`generate --model NAME`, `challenge --failures`, `--bundle`. Each new spelling was "No such option"
(exit 2) before; both spellings with different values are one line."""
import hashlib
import json

import pandas as pd
import pytest
from conftest import write_imdb_archive
from fake_llm_server import FakeLLMServer
from typer.testing import CliRunner

from sentiment_lab.cli import app

runner = CliRunner()

# a run of a few seconds: synthetic reviews, one epoch, a tiny network
TINY = ["--set", "data.source=synthetic", "--limit", "40", "--epochs", "1", "--set", "model.hidden_size=8",
        "--set", "model.embedding_dim=8", "--set", "text.vocab_size=64"]
TINY_TRAIN = [*TINY, "--no-progress"]


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def ok(*args):
    r = run(*args)
    assert r.exit_code == 0, r.output
    return r


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty folder: an option that is not taken would write its default (runs/...) here."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("SENTIMENT_LAB_HOME", str(tmp_path / "home"))
    yield tmp_path
    assert list(work.iterdir()) == []


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "table.csv"
    pd.DataFrame({"text": ["a great film, great", "awful plot, awful", "great acting", "an awful film"] * 5,
                  "label": [1, 0, 1, 0] * 5}).to_csv(path, index=False)
    return path


def test_train_writes_to_output_and_to_its_old_name_run_dir(in_tmp):
    for flag in ("--output", "--run-dir"):
        ok("train", *TINY_TRAIN, flag, in_tmp / flag)
        assert (in_tmp / flag / "bundle" / "config.json").is_file()
    assert_one_line_error(run("train", *TINY_TRAIN, "--run-dir", in_tmp / "a", "-o", in_tmp / "b"),
                          "--run-dir is the old name of --output")
    assert not (in_tmp / "a").exists() and not (in_tmp / "b").exists()


def test_experiment_writes_to_output_and_to_its_old_name_out(in_tmp):
    out = in_tmp / "exp"
    ok("experiment", *TINY, "--output", out)
    runs = {p: p.stat().st_mtime_ns for p in out.rglob("metrics.json")}
    assert (out / "results.md").is_file() and len(runs) == 2  # the run's and its bundle's
    ok("experiment", *TINY, "--out", out)  # the same directory: its finished run is reused, not trained again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("metrics.json")} == runs


def test_download_writes_to_output_and_to_its_old_name_dest(in_tmp):
    archive = write_imdb_archive(in_tmp / "src.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    for flag in ("-o", "--output", "--dest"):
        ok("download", "--url", archive.as_uri(), "--sha256", digest, flag, in_tmp / flag / "imdb.tar.gz")
        assert (in_tmp / flag / "imdb.tar.gz").read_bytes() == archive.read_bytes()
    assert_one_line_error(run("download", "--url", archive.as_uri(), "--dest", in_tmp / "a.tar.gz",
                              "-o", in_tmp / "b.tar.gz"), "--dest is the old name of --output")
    assert not (in_tmp / "home").exists()  # not the default place


def test_explain_writes_to_output_and_to_its_old_name_out_dir(tiny_bundle, in_tmp):
    for flag in ("--output", "-o", "--out-dir"):
        ok("explain", "-m", tiny_bundle, "a great film", "--ig-steps", "2", flag, in_tmp / flag)
        assert (in_tmp / flag / "explain.html").is_file() and (in_tmp / flag / "explain.png").is_file()


@pytest.mark.parametrize("flag", ["--llm-model", "--model"])
def test_generate_takes_the_llm_name_as_llm_model_and_as_its_old_name_model(flag, tmp_path, monkeypatch):
    """`generate --model NAME` named an LLM where every other command's --model is a bundle."""
    for var in ("MISTRAL_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    out = tmp_path / "gen.jsonl"
    with FakeLLMServer() as server:
        ok("generate", "--sentiment", "positive", "--n", "1", "--base-url", server.url, flag, f"llm{flag}",
           "--no-cache", "-o", out)
        assert [req["body"]["model"] for req in server.requests] == [f"llm{flag}"]
        assert_one_line_error(run("generate", "--sentiment", "positive", "--base-url", server.url, "--llm-model", "a",
                                  "--model", "b", "--no-cache", "-o", tmp_path / "x.jsonl"),
                              "--model is the old name of --llm-model")
    assert [json.loads(line)["label"] for line in out.read_text().splitlines()] == ["positive"]


def test_challenge_shows_n_failures_under_examples_and_its_old_name_failures(tiny_bundle):
    shown = {}
    for flag in ("-n", "--examples", "--failures"):
        for n in ("0", "2"):
            r = ok("challenge", "-m", tiny_bundle, flag, n)
            shown[flag, n] = [ln for ln in r.output.splitlines() if "✗" in ln]
    assert [len(shown[f, "2"]) for f in ("-n", "--examples", "--failures")] == [2, 2, 2]
    assert shown["-n", "2"] == shown["--examples", "2"] == shown["--failures", "2"]
    assert not any(shown[f, "0"] for f in ("-n", "--examples", "--failures"))


def test_evaluate_shows_n_examples_under_dash_n(tiny_bundle, table):
    for flag in ("-n", "--examples"):
        r = ok("evaluate", "-m", tiny_bundle, "--data", table, flag, "3")
        assert "3 random predictions" in r.output


def test_predict_takes_the_model_as_dash_m_and_as_its_old_name_bundle(tiny_bundle, tmp_path):
    rows = [json.loads(ok("predict", flag, tiny_bundle, "a great film", "--json").output) for flag in
            ("-m", "--model", "--bundle")]
    assert rows[0] == rows[1] == rows[2]
    ok("predict", "--bundle", tiny_bundle, "-m", tiny_bundle, "a great film")  # the same one twice: fine
    assert_one_line_error(run("predict", "--bundle", tiny_bundle, "-m", tmp_path, "a great film"),
                          "--bundle is the old name of --model")


def test_the_old_names_are_hidden_from_help():
    for command, old, new in (("train", "--run-dir", "--output"), ("explain", "--out-dir", "--output"),
                              ("experiment", "--out", "--output"), ("download", "--dest", "--output"),
                              ("generate", "--model", "--llm-model"), ("challenge", "--failures", "--examples"),
                              ("predict", "--bundle", "--model")):
        r = ok(command, "--help")
        words = r.output.replace("│", " ").split()
        assert new in words and old not in words, (command, r.output)
