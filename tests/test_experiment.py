"""`experiment`: grid planning, tables, plots, resume (a finished cell is not retrained)."""
import pandas as pd
import pytest

from sentiment_lab.exceptions import ConfigError
from sentiment_lab.training.experiment import parse_grid, plan, run_experiment

COMMON = ["data.source=synthetic", "data.limit=160", "text.vocab_size=64", "model.embedding_dim=8",
          "model.hidden_size=8", "train.epochs=2", "train.batch_size=32", "train.lr=0.01"]


def test_parse_grid_is_the_cartesian_product():
    assert parse_grid(["text.max_len=10,20", "model.hidden_size=4,8,16"])[0] == ["text.max_len=10", "model.hidden_size=4"]
    assert len(parse_grid(["text.max_len=10,20", "model.hidden_size=4,8,16"])) == 6
    assert parse_grid([]) == [[]]
    with pytest.raises(ConfigError, match="grid axis"):
        parse_grid(["max_len"])


def test_plan_validates_every_cell_before_training():
    with pytest.raises(ConfigError, match="hidden_sise"):
        plan(["seed"], ["model.hidden_sise=4"], [1], COMMON)
    cells = plan(["seed", "gru"], ["text.max_len=16,32"], [1, 2], COMMON)
    assert len(cells) == 8 and len({c.key for c, _ in cells}) == 8


def test_run_writes_tables_and_plots_and_resumes(tmp_path):
    events = []
    agg = run_experiment(["seed", "bilstm_attention"], ["text.max_len=16,32"], [1, 2], tmp_path, COMMON,
                         throughput_reviews=50, on_event=events.append)
    assert len(agg) == 4
    assert set(agg["seeds"]) == {2}
    assert agg["test_accuracy_mean"].between(0, 1).all() and (agg["test_accuracy_std"] >= 0).all()
    assert (agg["predict_reviews_per_s"] > 0).all() and (agg["parameters"] > 0).all()
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(runs) == 8
    md = (tmp_path / "results.md").read_text()
    assert sum(line.startswith("| ") for line in md.splitlines()) == 5  # header + 4 configurations
    for png in ("accuracy_vs_max_len.png", "accuracy_vs_train_time.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    # rerun: nothing retrains, the same numbers come back
    events.clear()
    again = run_experiment(["seed", "bilstm_attention"], ["text.max_len=16,32"], [1, 2], tmp_path, COMMON,
                           throughput_reviews=50, on_event=events.append)
    assert all("done earlier" in e for e in events)
    pd.testing.assert_series_equal(again["test_accuracy_mean"], agg["test_accuracy_mean"])


def test_a_second_command_adds_its_runs_to_the_same_table(tmp_path):
    run_experiment(["seed"], [], [1], tmp_path, COMMON, throughput_reviews=20, on_event=lambda e: None)
    agg = run_experiment(["gru"], ["text.max_len=16"], [1], tmp_path, COMMON, throughput_reviews=20,
                         on_event=lambda e: None)
    common = " ".join(c for c in COMMON if not c.startswith("data.source"))
    assert sorted(agg["config"]) == [f"gru {common} text.max_len=16", f"seed {common}"]
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 2
    assert f"| seed {common} |" in (tmp_path / "results.md").read_text()


def test_commands_differing_only_in_set_do_not_share_runs(tmp_path):
    """--set settings are part of a cell's identity: a second command with another --set
    trains its own runs instead of reporting the first command's as its own."""
    run_experiment(["seed"], [], [1], tmp_path, COMMON, throughput_reviews=20, on_event=lambda e: None)
    events = []
    agg = run_experiment(["seed"], [], [1], tmp_path, [*COMMON, "train.grad_clip=1.0"], throughput_reviews=20,
                         on_event=events.append)
    assert not any("done earlier" in e for e in events)
    assert len(agg) == 2 and agg["config"].str.endswith("train.grad_clip=1.0").sum() == 1


def test_an_edited_preset_is_not_mistaken_for_the_finished_run(tmp_path):
    preset = tmp_path / "mine.toml"
    preset.write_text("[model]\nhidden_size = 8\n")
    run_experiment([str(preset)], [], [1], tmp_path / "exp", COMMON, throughput_reviews=20, on_event=lambda e: None)
    preset.write_text("[model]\nhidden_size = 8\n[train]\nema = 0.9\n")
    with pytest.raises(ConfigError, match="other settings"):
        run_experiment([str(preset)], [], [1], tmp_path / "exp", COMMON, throughput_reviews=20, on_event=lambda e: None)


def test_cli_dry_run(tmp_path):
    from typer.testing import CliRunner

    from sentiment_lab.cli import app

    res = CliRunner().invoke(app, ["experiment", "-p", "seed", "-g", "text.max_len=16,32", "-s", "1", "-s", "2",
                                   "--set", "data.source=synthetic", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "4 runs" in res.output
    res = CliRunner().invoke(app, ["experiment", "-p", "seed", "--set", "data.source=synthetic", "--limit", "0",
                                   "--dry-run"])  # --limit reaches every cell's config, which checks it
    assert res.exit_code == 1 and "data.limit must be >= 1" in res.output, res.output
    res = CliRunner().invoke(app, ["experiment", "-p", "seed", "--set", "data.source=synthetic", "--epochs", "0",
                                   "--dry-run"])
    assert res.exit_code == 1 and "train.epochs must be > 0" in res.output, res.output


def test_plot_styles_stay_distinct_past_the_colour_cycle():
    import itertools

    from sentiment_lab.training.experiment import plot_styles

    styles = list(itertools.islice(plot_styles(), 70))
    assert len(set(styles)) == 70
    assert styles[0] != styles[10] and styles[0][0] == styles[10][0]  # same colour, other marker
