"""The CLI through Typer's CliRunner: every command, and one-line errors for bad input."""
import json

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from sentiment_lab.cli import app

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize("cmd", ["train", "evaluate", "predict", "download"])
def test_help(cmd):
    r = run(cmd, "--help")
    assert r.exit_code == 0 and "Usage" in r.output


def test_predict_texts_and_json(tiny_bundle):
    r = run("predict", "-m", tiny_bundle, "the film was great", "awful Zorblax plot", "--json")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [x["label"] for x in rows] == ["positive", "negative"]
    assert rows[1]["unknown_words"] == ["Zorblax"]
    r = run("predict", "-m", tiny_bundle, "the film was great")
    assert r.exit_code == 0 and "positive" in r.output


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".tsv"])
def test_predict_file_to_file(tiny_bundle, tmp_path, suffix):
    src = tmp_path / "in.csv"
    pd.DataFrame({"review": ["a great film", "a dull plot"]}).to_csv(src, index=False)
    out = tmp_path / f"out{suffix}"
    r = run("predict", "-m", tiny_bundle, "--input", src, "--text-column", "review", "--output", out)
    assert r.exit_code == 0, r.output
    df = {".csv": pd.read_csv, ".jsonl": lambda p: pd.read_json(p, lines=True), ".parquet": pd.read_parquet,
          ".tsv": lambda p: pd.read_csv(p, sep="\t")}[suffix](out)
    assert df["label"].tolist() == ["positive", "negative"] and set(df.columns) >= {"review", "score", "p_positive"}


def test_predict_txt_lines_to_stdout(tiny_bundle, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("a great film\n\na dull plot\n")
    r = run("predict", "-m", tiny_bundle, "--input", src)
    assert r.exit_code == 0 and r.output.splitlines()[1:] == ["a great film,positive," + r.output.splitlines()[1].split(",")[-1],
                                                              r.output.splitlines()[2]]
    assert "negative" in r.output.splitlines()[2]


def test_interactive_loop(tiny_bundle):
    r = run("predict", "-m", tiny_bundle, "--interactive", input="the film was great\nZorblax awful\n\nquit\n")
    assert r.exit_code == 0, r.output
    assert "positive" in r.output and "P(positive) 0." in r.output and "unknown words: Zorblax" in r.output


def test_one_vocabulary_for_scores(tiny_bundle, tmp_path):
    """`score` is the confidence in the predicted label and `p_positive` is P(positive): in predict --json
    (the web API's fields), the table and the interactive loop, which printed P(positive) as "raw score";
    explain's page title showed P(positive) bare after the label ("negative (0.26)")."""
    import re
    from pathlib import Path

    from sentiment_lab.serve.schemas import Prediction

    r = run("predict", "-m", tiny_bundle, "awful plot", "--json")
    assert r.exit_code == 0, r.output
    row = json.loads(r.output)
    assert set(row) == {"text"} | set(Prediction.model_fields)
    assert row["label"] == "negative" and row["score"] == pytest.approx(1 - row["p_positive"]) and row["score"] >= 0.5
    r = run("predict", "-m", tiny_bundle, "awful plot")
    assert "P(positive)" in r.output and f"{row['p_positive']:.4f}" in r.output, r.output
    r = run("predict", "-m", tiny_bundle, "--interactive", input="awful plot\nquit\n")
    assert f"negative  confidence {row['score']:.1%}  P(positive) {row['p_positive']:.4f}" in r.output, r.output
    r = run("explain", "-m", tiny_bundle, "awful plot", "-o", tmp_path / "x")
    assert r.exit_code == 0, r.output
    title = re.search(r"<title>(.*)</title>", (tmp_path / "x" / "explain.html").read_text()).group(1)
    assert title.endswith(f"negative, P(positive) = {row['p_positive']:.2f}"), title
    root = Path(__file__).resolve().parents[1]
    said = [f"{p.relative_to(root)}" for d in ("src", "docs", "notebooks", "examples") for p in (root / d).rglob("*")
            if p.suffix in (".py", ".md", ".ipynb", ".html", ".j2", ".js") and re.search(r"raw.score", p.read_text(), re.I)]
    assert said == []


def test_interactive_loop_ends_its_last_line_at_end_of_input(tiny_bundle):
    """Ctrl-D (end of input) left the cursor after the last "> ": the shell's prompt followed on that line."""
    r = run("predict", "-m", tiny_bundle, "--interactive", input="the film was great\n")
    assert r.exit_code == 0, r.output
    assert r.output.endswith("> \n"), repr(r.output[-40:])
    r = run("predict", "-m", tiny_bundle, "--interactive", input="quit\n")  # the typed line already ended it
    assert r.exit_code == 0 and r.output.endswith("> "), repr(r.output[-40:])


def test_square_brackets_in_texts_are_printed_as_typed(tiny_bundle, tmp_path):
    """Rich reads "[b]" or "[/spoiler]" as markup: review text with a closing tag crashed the table
    with a traceback, and an opening one vanished from the output."""
    r = run("predict", "-m", tiny_bundle, "[/spoiler] great", "[b]awful[/b] plot")
    assert r.exit_code == 0, r.output
    assert "[/spoiler] great" in r.output and "[b]awful[/b] plot" in r.output
    r = run("predict", "-m", tiny_bundle, "--interactive", input="[/x] great Zorblax\nquit\n")
    assert r.exit_code == 0 and "unknown words: x, Zorblax" in r.output, r.output
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": ["x"]}).to_csv(src, index=False)
    assert_one_line_error(run("predict", "-m", tiny_bundle, "--input", src, "--output", tmp_path / "o.csv",
                              "--text-column", "[/review]"), "no column '[/review]'")
    pd.DataFrame({"text": [f"[/x] great film {i}" for i in range(4)] + [f"[b]awful[/b] {i}" for i in range(4)],
                  "label": [1] * 4 + [0] * 4}).to_csv(src, index=False)
    r = run("evaluate", tiny_bundle, "--data", src, "--examples", "8")
    assert r.exit_code == 0 and "[/x] great film" in r.output and "[b]awful[/b]" in r.output, r.output
    r = run("errors", tiny_bundle, "--data", src, "-o", tmp_path / "err")
    assert r.exit_code == 0, r.output


def test_help_texts_show_their_defaults():
    """Typer renders help through Rich, where "[default: the shipped model]" is a style tag and vanished
    ("Model bundle ."): help texts write defaults in parentheses."""
    import re

    import typer.main

    tag = re.compile(r"(?<!\\)\[[a-z#/@][^\[\]]*\]")

    def helps(cmd, where):
        yield where, cmd.help or ""
        for p in cmd.params:
            yield f"{where} {p.name}", getattr(p, "help", None) or ""
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from helps(sub, f"{where} {name}")

    texts = list(helps(typer.main.get_command(app), "sentiment-lab"))
    assert len(texts) > 100
    assert [(where, h) for where, h in texts if tag.search(h)] == []
    # the command list shows each docstring's first paragraph with its line breaks: one line each
    commands = [(where, h) for where, h in texts if " " not in where.removeprefix("sentiment-lab ")]
    assert len(commands) > 15 and [w for w, h in commands if "\n" in h.strip().split("\n\n")[0]] == []
    r = run("predict", "--help")
    words = " ".join(r.output.replace("│", " ").split())  # the help column wraps at the terminal's width
    assert r.exit_code == 0 and "A shipped model (imdb, general) or a bundle folder (default: the default shipped model)." in words, r.output


def test_bad_inputs_are_one_line_errors(tiny_bundle, tmp_path):
    assert_one_line_error(run("predict", "-m", tiny_bundle, "   "), "text is empty")
    assert_one_line_error(run("predict", "-m", tiny_bundle, "x" * 200_000), "limit")
    assert_one_line_error(run("predict", "-m", tmp_path / "nope", "hi"), "not found")
    assert_one_line_error(run("predict", "-m", tiny_bundle), "give texts")
    src = tmp_path / "in.csv"
    pd.DataFrame({"body": ["x"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert_one_line_error(run("predict", "-m", tiny_bundle, "--input", src, "--output", out), "no column 'text'")
    assert not out.exists()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text\n\xff\xfe\n")
    assert_one_line_error(run("predict", "-m", tiny_bundle, "--input", bad, "--output", out), "UTF-8")
    assert not out.exists() and list(tmp_path.glob(".out*")) == []


def test_mistakes_students_make_are_one_line_errors_that_write_nothing(tiny_bundle, tiny_run, tmp_path):
    """Found by walking through the README as a new user would: each was a traceback, a silent
    surprise, or a message about the wrong problem."""
    syn = ("--set", "data.source=synthetic", "--no-progress")
    assert_one_line_error(run("train", *syn, "--set", "model.arch=transformer.v1", "-o", tmp_path / "a"),
                          "unknown architecture 'transformer.v1'")
    if not torch.cuda.is_available():
        assert_one_line_error(run("train", *syn, "--device", "cuda", "-o", tmp_path / "b"), "no CUDA device")
    assert_one_line_error(run("train", *syn, "--limit", "0", "-o", tmp_path / "c"), "data.limit must be >= 1")
    (tmp_path / "file.txt").write_text("x")
    assert_one_line_error(run("train", *syn, "-o", tmp_path / "file.txt"), "is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # no half-made run folder
    assert_one_line_error(run("train", "--resume", tiny_run.run_dir, "--epochs", "9"), "--resume continues a run")
    assert_one_line_error(run("predict", "-m", tiny_run.run_dir, "hi"), "is a run folder", "bundle")
    assert_one_line_error(run("predict", "-m", tiny_bundle, "--input", tmp_path / "file.txt", "also this"),
                          "one of them")
    assert_one_line_error(run("predict", "-m", tiny_bundle, "hi", "-o", tmp_path / "o.csv"), "--output needs --input")
    assert_one_line_error(run("predict", "-m", tiny_bundle, "--input", tmp_path), "is a folder")
    assert_one_line_error(run("predict", "-m", tiny_bundle, "ok \udcff"), "not valid UTF-8")  # argv's undecodable bytes
    assert_one_line_error(run("errors", tmp_path / "nope"), "model bundle not found")  # not an IMDB download first
    assert_one_line_error(run("challenge", tiny_bundle, "--suite", tmp_path / "none.jsonl"), "file not found")
    (tmp_path / "out").mkdir()
    assert_one_line_error(run("challenge", tiny_bundle, "-o", tmp_path / "out"), "is a folder")
    table = tmp_path / "t.csv"
    pd.DataFrame({"text": ["good", "bad"], "label": [1, 0]}).to_csv(table, index=False)
    assert_one_line_error(run("evaluate", tiny_bundle, "--data", table, "--limit", "0"), "--limit must be at least 1")
    assert_one_line_error(run("evaluate", tiny_bundle, "--data", table, "-o", tmp_path / "out"), "is a folder")
    assert_one_line_error(run("compare", "x", "--methods", ""), "--methods is empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "out", "t.csv"]
    assert list((tmp_path / "out").iterdir()) == []


def test_train_and_evaluate_own_csv(tmp_path):
    from sentiment_lab.data import make_corpus

    recs = make_corpus(300, seed=5)
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": [r.text for r in recs], "stars": [9 if r.label else 2 for r in recs]}).to_csv(path, index=False)
    r = run("train", "--data", path, "--text-column", "review", "--label-column", "stars", "--rating-threshold", "7",
            "--test-data", path, "-o", tmp_path / "run", "--no-progress", "--epochs", "2",
            "--model.hidden_size", "8", "--set", "model.embedding_dim=8", "--text.vocab_size=64")
    assert r.exit_code == 0, r.output
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["model"]["hidden_size"] == 8 and cfg["model"]["embedding_dim"] == 8 and cfg["text"]["vocab_size"] == 64
    card = (tmp_path / "run" / "bundle" / "README.md").read_text()  # the card states the user's data, not IMDB's
    assert "- Data: `reviews.csv`, test on `reviews.csv`, text column `review`, label column `stars` (ratings >= 7 " \
           "positive)" in card
    assert "| test | 300 | 50.0% |" in card and "movie reviews" not in card
    out = tmp_path / "m.json"
    r = run("evaluate", tmp_path / "run" / "bundle", "--data", path, "--text-column", "review", "--label-column", "stars",
            "--rating-threshold", "7", "--output", out)
    assert r.exit_code == 0, r.output
    assert "Confusion matrix" in r.output and "random predictions" in r.output and "precision" in r.output
    m = json.loads(out.read_text())
    assert m["n"] == 300 and 0 <= m["accuracy"] <= 1 and len(m["confusion_matrix"]) == 2
    # a test file laid out like the training one needs no column options: the bundle knows them
    r = run("evaluate", tmp_path / "run" / "bundle", "--data", path, "--output", out)
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text()) == m


def test_train_config_errors(tmp_path):
    assert_one_line_error(run("train", "--model.hiden_size", "3", "-o", tmp_path / "r"), "unknown config key")
    assert_one_line_error(run("train", "--set", "model.hidden_size=x", "-o", tmp_path / "r"), "must be int")
    assert_one_line_error(run("train", "--data", tmp_path / "missing.csv", "-o", tmp_path / "r"), "file not found")
    assert_one_line_error(run("train", "--resume", tmp_path / "none"), "nothing to resume")


def test_a_one_label_model_is_called_out():
    from sentiment_lab.cli.train import one_class_warning

    def m(neg_recall, pos_recall):
        return {"n": 100, "per_class": {"negative": {"support": 31, "recall": neg_recall},
                                        "positive": {"support": 69, "recall": pos_recall}}}

    w = one_class_warning({"test": m(0.0, 1.0)})
    assert w.startswith("warning: the model predicts positive for every test review (negative recall 0; 69% of them")
    assert one_class_warning({"test": m(0.5, 0.9)}) is None and one_class_warning({}) is None
    assert "predicts negative for every val review" in one_class_warning({"val": m(1.0, 0.0)})


def test_a_read_only_disk_is_one_line_and_other_os_errors_stay_bugs():
    """A read-only output folder gave an OSError traceback (streaming's parts, export's folder)."""
    import errno

    import typer

    from sentiment_lab.cli.common import user_errors

    def failing(e):
        @user_errors
        def cmd():
            raise e
        return cmd

    with pytest.raises(typer.Exit) as ex:
        failing(OSError(errno.EROFS, "Read-only file system", "ro/.out.csv.parts"))()
    assert ex.value.exit_code == 1
    with pytest.raises(FileNotFoundError):  # not a disk the user must fix: a bug, traceback kept
        failing(FileNotFoundError(errno.ENOENT, "No such file", "x"))()


def test_under_torchrun_only_rank_0_reports(tmp_path, monkeypatch):
    """Rank 1 printed "trained for 1 epoch(s), no validation or test split" beside rank 0's test figures."""
    class Result:  # what a rank other than 0 gets back: no metrics
        metrics, best_epoch = {}, 1

    monkeypatch.setenv("WORLD_SIZE", "2")  # what torchrun sets, with RANK
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr("sentiment_lab.training.loop.train", lambda *a, **k: Result())
    r = run("train", "--set", "data.source=synthetic", "-o", tmp_path / "r", "--no-progress")
    assert r.exit_code == 0 and r.output.strip() == "", r.output
    monkeypatch.setenv("RANK", "0")
    r = run("train", "--set", "data.source=synthetic", "-o", tmp_path / "r", "--no-progress")
    assert "trained for 1 epoch(s)" in r.output  # rank 0 (or no torchrun) still reports


def test_logs_are_plain_unwrapped_lines_without_source_locations(tmp_path, monkeypatch):
    """Rich's log() put `train.py:477` on every line and, in a file, wrapped and padded each
    message at 80 columns; a log file now gets one plain line per message."""
    import io
    import re
    import sys

    r = run("train", "--set", "data.source=synthetic", "--limit", "200", "--epochs", "1", "--set", "text.vocab_size=64",
            "--set", "model.hidden_size=8", "--set", "model.embedding_dim=8", "-o", tmp_path / "r")
    assert r.exit_code == 0, r.output
    log = r.stderr.splitlines()  # CliRunner's stderr is not a terminal, as a file or a pipe is not
    assert not [ln for ln in log if re.search(r"\w+\.py:\d+", ln)], r.stderr
    assert not [ln for ln in log if ln != ln.rstrip()], r.stderr  # no padding to the width
    data = [ln for ln in log if re.search(r"^\S+ \S+ data: ", ln)]
    assert len(data) == 1 and re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d data: 160 train .*, 200 test .*\(\d", data[0])
    assert [ln for ln in log if "epoch 1: train loss" in ln and "val loss" in ln and ln.rstrip().endswith("*")]
    warning = [ln for ln in log if ln.startswith("warning: the model predicts")]
    assert len(warning) == 1 and warning[0].endswith("or a smaller train.batch_size"), r.stderr
    assert "" not in log  # no blank line left by a progress bar
    summary = [ln for ln in r.stdout.splitlines() if "bundle:" in ln]  # stdout too: one line, path included
    assert len(summary) == 1 and summary[0].endswith(str(tmp_path / "r" / "bundle")), r.stdout

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    from sentiment_lab.cli.common import err_console

    monkeypatch.setattr(sys, "stderr", Terminal())  # the console writes to whatever sys.stderr is now
    err_console.log("a message")  # on a terminal: Rich's log, time column kept, no source location
    shown = sys.stderr.getvalue()
    assert "a message" in shown and not re.search(r"\w+\.py:\d+", shown), shown


# Every command that uses a model, with what it needs besides the model (small, offline, seconds).
MODEL_COMMANDS = {
    "predict": ["a great film"],
    "challenge": ["--failures", "0"],
    "explain": ["a great film", "--ig-steps", "2", "-o", "{tmp}/explain"],
    "evaluate": ["--data", "{table}", "--examples", "0"],
    "embeddings": ["--method", "pca", "--top-n", "0", "--words", "great,awful,film", "-o", "{tmp}/embeddings"],
    "errors": ["--data", "{table}", "--no-attributions", "-o", "{tmp}/errors"],
    "data-plots": ["--data", "{table}", "-o", "{tmp}/data"],
    "compare": ["a great film", "--methods", "rnn", "--no-imdb", "--no-challenge", "-o", "{tmp}/compare"],
    "export": ["-o", "{tmp}/model.onnx"],
    "serve": ["--port", "0"],  # never reached in these tests: they end at the model check
}
POSITIONAL = ("challenge", "explain", "evaluate", "embeddings", "errors", "export", "serve")  # [BUNDLE] works too


def _model_args(cmd, tmp_path, run_no=0):
    """The command's arguments, writing into a new folder for each run (export refuses to replace a file)."""
    table = tmp_path / "table.csv"
    if not table.exists():
        pd.DataFrame({"text": ["a great film, great", "awful plot, awful", "great acting", "an awful film"] * 5,
                      "label": [1, 0, 1, 0] * 5}).to_csv(table, index=False)
    return [a.format(tmp=tmp_path / f"out{run_no}", table=table) for a in MODEL_COMMANDS[cmd]]


@pytest.mark.parametrize("cmd", sorted(MODEL_COMMANDS))
def test_every_model_command_takes_dash_m(cmd, tiny_bundle, tmp_path):
    """`challenge -m run/bundle` was "No such option: -m": only predict (and data-plots, compare) had it."""
    import typer.main

    command = typer.main.get_command(app).commands[cmd]
    option = [p for p in command.params if "-m" in p.opts]
    assert len(option) == 1 and "--model" in option[0].opts, [p.opts for p in command.params]
    args = _model_args(cmd, tmp_path)
    # the option is used: a wrong path is the one-line error of a missing model, not the shipped model's output
    assert_one_line_error(run(cmd, *args, "-m", tmp_path / "nope"), "not found", "nope")
    if cmd in POSITIONAL:  # both forms, naming different models: one line, nothing done
        assert_one_line_error(run(cmd, tiny_bundle, *args, "-m", tmp_path / "other"), "two models given", "give one")
    if cmd == "serve":
        return
    r = run(cmd, *args, "-m", tiny_bundle)
    assert r.exit_code == 0, r.output
    if cmd in POSITIONAL:
        r = run(cmd, tiny_bundle, *_model_args(cmd, tmp_path, 1))
        assert r.exit_code == 0, r.output
        r = run(cmd, tiny_bundle, *_model_args(cmd, tmp_path, 2), "--model", tiny_bundle)  # the same one twice: fine
        assert r.exit_code == 0, r.output


def test_dash_m_and_the_positional_bundle_mean_the_same_model(tiny_bundle, tmp_path):
    for args in ([tiny_bundle], ["-m", tiny_bundle], ["--model", tiny_bundle]):
        r = run("challenge", *args, "-o", tmp_path / "c.json")
        assert r.exit_code == 0, r.output
        res = json.loads((tmp_path / "c.json").read_text())
        if args[0] == tiny_bundle:
            first = res
    assert res == first
    shipped = json.loads((run("challenge", "-o", tmp_path / "s.json"), (tmp_path / "s.json").read_text())[1])
    assert shipped != first  # without a model: the shipped one, not the tiny bundle


def test_baseline_commands_take_dash_m(tmp_path):
    table = tmp_path / "t.csv"
    pd.DataFrame({"text": ["a great film", "an awful plot", "great acting", "awful film"] * 3,
                  "label": [1, 0, 1, 0] * 3}).to_csv(table, index=False)
    saved = tmp_path / "tfidf"
    r = run("baseline", "train", "tfidf", "--data", table, "--test-data", table, "-o", saved)
    assert r.exit_code == 0, r.output
    for args in ([saved], ["-m", saved]):
        r = run("baseline", "evaluate", *args, "--data", table)
        assert r.exit_code == 0 and "Metrics (12 reviews)" in r.output, r.output
    outputs = []
    for args in ([saved, "great film", "awful plot"], ["-m", saved, "great film", "awful plot"],
                 ["-m", saved, saved, "great film", "awful plot"]):
        r = run("baseline", "predict", *args)
        assert r.exit_code == 0, r.output
        outputs.append([json.loads(line) for line in r.output.splitlines()])
    assert outputs[0] == outputs[1] == outputs[2] and [o["text"] for o in outputs[0]] == ["great film", "awful plot"]
    for o in outputs[0]:  # the fields of predict --json (unknown words aside: a baseline has no fixed vocabulary)
        assert set(o) == {"text", "label", "score", "p_positive"}
        assert o["score"] == pytest.approx(max(o["p_positive"], 1 - o["p_positive"]))
    assert_one_line_error(run("baseline", "evaluate", "--data", table), "give the saved baseline")
    assert_one_line_error(run("baseline", "evaluate", saved, "-m", tmp_path, "--data", table), "two models given")
    assert_one_line_error(run("baseline", "predict", "-m", tmp_path / "nope", "great"), "not found")


def test_default_outputs_go_under_runs_which_git_ignores(tiny_bundle, tmp_path, monkeypatch):
    """explain wrote explain_out/ (errors, embeddings and data-plots: errors/, embeddings/, data-plots/) into the
    current folder, where `git add .` picks it up; they now go under runs/, like train and compare."""
    import subprocess
    from pathlib import Path

    import typer.main

    defaults = {name: [p.default for p in cmd.params if p.name in ("output", "out", "out_dir")]
                for name, cmd in typer.main.get_command(app).commands.items()}
    for name in ("errors", "embeddings", "data-plots", "compare", "experiment"):
        assert len(defaults[name]) == 1 and Path(defaults[name][0]).parts[0] == "runs", (name, defaults[name])
    from sentiment_lab.cli.explain import default_out_dir

    assert default_out_dir("The first half was dull, but the ending was brilliant.") == \
        Path("runs/explain/the_first_half_was_dull_but")
    assert default_out_dir("Très bon film ! 10/10") == Path("runs/explain/tres_bon_film_10_10")
    assert default_out_dir("!!!") == Path("runs/explain/text") and len(default_out_dir("a" * 500).name) == 60

    table = tmp_path / "table.csv"
    pd.DataFrame({"text": ["a great film, great", "awful plot, awful", "great acting", "an awful film"] * 5,
                  "label": [1, 0, 1, 0] * 5}).to_csv(table, index=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for args in (["explain", "-m", tiny_bundle, "A great film!", "--ig-steps", "2"],
                 ["errors", "-m", tiny_bundle, "--data", table, "--no-attributions"],
                 ["embeddings", "-m", tiny_bundle, "--method", "pca", "--top-n", "0", "--words", "great,awful,film"],
                 ["data-plots", "-m", tiny_bundle, "--data", table]):
        r = run(*args)
        assert r.exit_code == 0, r.output
    assert [p.name for p in work.iterdir()] == ["runs"]
    assert sorted(p.name for p in (work / "runs").iterdir()) == ["data-plots", "embeddings", "errors", "explain"]
    assert (work / "runs" / "explain" / "a_great_film" / "explain.html").is_file()

    root = Path(__file__).resolve().parents[1]
    paths = ["runs/explain/a_great_film/explain.html", "runs/errors/errors.json", "runs/experiments/default/results.md",
             "explain_out/explain.html", "errors/errors.json", "embeddings/vectors.tsv", "data-plots/data_summary.json",
             "experiments/archs/results.md"]
    try:
        ignored = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=root, capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("no git")
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.stdout.split() == paths


def test_help_lists_the_commands_in_panels_in_a_useful_order():
    """`sentiment-lab --help` listed every command in one panel, in the order the modules happened to
    be imported (challenge, generate, compare, train, ...)."""
    import re

    r = run("--help")
    assert r.exit_code == 0, r.output
    panels, current = {}, None
    for line in r.output.splitlines():
        title = re.match(r"╭─ (.+?) ─", line)
        if title:
            current = panels.setdefault(title.group(1), [])
        elif current is not None and re.match(r"│ \S", line):
            current.append(line[2:].split()[0])
    assert panels == {
        "Options": ["--help"],
        "Train and use": ["train", "evaluate", "predict", "experiment"],
        "Look inside": ["plot", "report", "data-plots", "embeddings", "explain", "errors", "challenge"],
        "Compare": ["compare", "baseline"],
        "Talk to an LLM": ["chat"],
        "Serve and deploy": ["serve", "export"],
        "Data": ["datasets", "download", "generate"],
    }
    assert list(panels)[1:] == ["Train and use", "Look inside", "Compare", "Talk to an LLM", "Serve and deploy", "Data"]
