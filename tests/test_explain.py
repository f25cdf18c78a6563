"""sentiment_lab.analysis.explain: attributions, running prediction and RNN internals, checked
against independent computations (per-prefix predictions, PyTorch's own recurrent layers,
IG completeness), on the tiny bundle, random models of every architecture and the
shipped model; plus the HTML/PNG/terminal renderings and the CLI command."""
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.config import ModelConfig
from sentiment_lab.exceptions import InputError, SentimentLabError
from sentiment_lab.analysis.explain import attributions, explain, read_tokens
from sentiment_lab.analysis.explain.internals import layer0_forward
from sentiment_lab.models import build_model
from sentiment_lab.models.rnn import CELLS

POSITIVE = "This movie is absolutely fantastic and amazing"
NEGATIVE = "a boring, awful mess"


@pytest.fixture(scope="module")
def shipped():
    return SentimentClassifier.from_pretrained()


@pytest.fixture(scope="module")
def shipped_explained(shipped):
    return {text: explain(shipped, text) for text in (POSITIVE, NEGATIVE)}


@pytest.fixture(scope="module")
def tiny(tiny_bundle):
    return SentimentClassifier.from_pretrained(tiny_bundle)


def random_clf(tiny, seed=0, **kw):
    """A classifier around an untrained model with random weights (biases included, so the
    gate order matters) and the tiny bundle's tokenizer."""
    torch.manual_seed(seed)
    cfg = ModelConfig(embedding_dim=8, hidden_size=6, input_dropout=0.0, recurrent_dropout=0.0, dropout=0.0, **kw)
    model = build_model(cfg, tiny.encoder.vocab_size)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name != "embedding.weight":
                p.copy_(torch.randn_like(p) * 0.8)
    return SentimentClassifier(model.eval(), tiny.encoder, tiny.config, {})


def logit(p):
    return float(np.log(p / (1 - p)))


def test_tokens_are_what_the_model_reads(tiny, shipped):
    for clf, text in ((tiny, "a great film Zorblax!"), (shipped, "Zorblax's <br/>movie was ＧＲＥＡＴ!!")):
        ids, tokens, unknown, truncated = read_tokens(clf, text)
        assert ids.tolist() == clf.encoder.encode([text])[0].tolist()
        assert len(tokens) == len(ids) and unknown == [i == 1 for i in ids] and not truncated
    assert read_tokens(shipped, "Zorblax's <br/>movie was ＧＲＥＡＴ!!")[1] == ["zorblax's", "movie", "was", "great", "!", "!"]
    long = " ".join(["great"] * 30 + ["awful"] * 30)  # tiny: max_len 48, truncation as configured
    ids, tokens, _, truncated = read_tokens(tiny, long)
    assert truncated and len(tokens) == tiny.encoder.max_len and ids.tolist() == tiny.encoder.encode([long])[0].tolist()


def test_explanation_on_tiny_bundle(tiny):
    e = explain(tiny, "a great film with a wonderful cast")
    T = len(e.tokens)
    assert T == len(e.unknown) == len(e.attributions) == len(e.occlusion) == len(e.trajectory) == len(e.hidden)
    assert e.score == pytest.approx(tiny.predict_proba([e.text])[0, 1], abs=1e-5)
    assert e.trajectory[-1] == pytest.approx(e.score, abs=1e-6)
    assert e.label == ("positive" if e.score >= 0.5 else "negative")
    assert set(e.gates) == {"input", "forget", "output", "cell_norm"} and e.attention is None
    assert np.shape(e.gates["forget"]) == (T, 16) and np.shape(e.gates["cell_norm"]) == (T, 1)
    d = json.loads(json.dumps(e.to_dict()))
    assert d["tokens"] == e.tokens and d["attributions"] == pytest.approx(e.attributions, abs=1e-4)
    # the JSON's "score" means what it means in predict --json: confidence in the label
    assert d["p_positive"] == pytest.approx(e.score, abs=1e-4) and d["score"] == pytest.approx(tiny(e.text)["score"], abs=1e-4)
    assert explain(tiny, e.text, internals=False).gates is None


@pytest.mark.parametrize("kw", [dict(arch="lstm.v1", bidirectional=True, pooling="max"),
                                dict(arch="gru.v1", num_layers=2, pooling="mean"),
                                dict(arch="lstm.v1", bidirectional=True, pooling="attention"),
                                dict(arch="rnn.v1", pooling="last"),
                                dict(arch="lstm.v1", bidirectional=True, pooling="max", ngram_buckets=64, ngram_order=3),
                                dict(arch="lstm.v1", bidirectional=True, pooling="attention", bag_buckets=61, bag_order=3)])
def test_trajectory_and_occlusion_equal_one_by_one_predictions(tiny, kw):
    clf = random_clf(tiny, **kw)
    e = explain(clf, "a great film but an awful dull plot", ig_steps=8)
    ids = read_tokens(clf, e.text)[0]

    def p(seq):  # one sequence at a time: no batching, no padding
        with torch.no_grad():
            return float(torch.sigmoid(clf.model(torch.tensor([seq]), torch.tensor([len(seq)]))))

    assert e.trajectory == pytest.approx([p(ids[:i + 1].tolist()) for i in range(len(ids))], abs=1e-5)
    assert e.occlusion == pytest.approx([e.score - p(np.delete(ids, i).tolist()) for i in range(len(ids))], abs=1e-5)
    if kw["pooling"] == "attention":
        assert len(e.attention) == len(ids) and sum(e.attention) == pytest.approx(1.0, abs=1e-5)


def test_shipped_trajectory_equals_numpy_runtime_on_prefixes(shipped):
    e = explain(shipped, "The first half was dull, but the ending was brilliant.", internals=False)
    numpy_clf = SentimentClassifier.from_pretrained(backend="numpy")
    prefixes = [" ".join(e.tokens[:i + 1]) for i in range(len(e.tokens))]
    assert e.trajectory == pytest.approx(numpy_clf.predict_proba(prefixes)[:, 1].tolist(), abs=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional,num_layers", [(False, 1), (True, 2)])
def test_manual_recurrence_reproduces_pytorch(tiny, cell, bidirectional, num_layers):
    clf = random_clf(tiny, arch=f"{cell}.v1", bidirectional=bidirectional, num_layers=num_layers)
    model = clf.model
    ids = torch.tensor(read_tokens(clf, "a great film but an awful dull plot and a great cast")[0])
    hidden, gates = layer0_forward(model, ids)
    ref = CELLS[cell](8, 6, batch_first=True)  # PyTorch's own layer, fed layer 0's forward weights
    ref.load_state_dict({f"{n}_l0": getattr(model.rnn, f"{n}_l0") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    with torch.no_grad():
        expected = ref(model.embedding(ids)[None])[0][0].numpy()
        if num_layers == 1 and not bidirectional:
            assert np.allclose(model.rnn(model.embedding(ids)[None])[0][0].numpy(), expected, atol=1e-6)
    assert np.allclose(hidden, expected, atol=1e-5)
    names = {"lstm": {"input", "forget", "output", "cell_norm"}, "gru": {"reset", "update"}, "rnn": None}[cell]
    assert (gates is None) if names is None else set(gates) == names
    for name, g in (gates or {}).items():
        if name != "cell_norm":
            assert g.shape == hidden.shape and ((g > 0) & (g < 1)).all()


def test_shipped_hidden_states_are_the_lstm_forward_outputs(shipped, shipped_explained):
    e = shipped_explained[POSITIVE]
    ids = torch.tensor(read_tokens(shipped, POSITIVE)[0])
    with torch.no_grad():
        out = shipped.model.rnn(shipped.model.embedding(ids)[None])[0][0, :, :128].numpy()  # forward half of the BiLSTM
    assert np.allclose(e.hidden, out, atol=1e-5)


def test_integrated_gradients_completeness(tiny, shipped_explained):
    for e in (explain(tiny, "a great film with a wonderful cast", internals=False), *shipped_explained.values()):
        target = logit(e.score) - logit(e.baseline_score)
        assert sum(e.attributions) == pytest.approx(target, abs=0.02 + 0.01 * abs(target))
        assert abs(e.ig_delta) < 0.02 + 0.01 * abs(target)


def test_integrated_gradients_completeness_with_ngram_vectors(tiny):
    """Word and n-gram vectors are interpolated together: attributions still add up."""
    clf = random_clf(tiny, bidirectional=True, pooling="max", ngram_buckets=64, ngram_order=3)
    e = explain(clf, "a great film but an awful dull plot", ig_steps=128, internals=False)
    target = logit(e.score) - logit(e.baseline_score)
    assert abs(target) > 0.1
    assert sum(e.attributions) == pytest.approx(target, abs=0.02 + 0.01 * abs(target))


def test_integrated_gradients_completeness_with_a_bag_of_ngrams(tiny):
    """The bag term reads the ids, not the interpolated vectors: its exact split over the tokens
    is added, so the attributions still add up (without it the gap would be the bag's change
    from the baseline, which is large here), and batched attributions equal single ones."""
    clf = random_clf(tiny, bidirectional=True, pooling="attention", ngram_buckets=64, bag_buckets=61, bag_order=2)
    text = "a great film but an awful dull plot , a great film"
    e = explain(clf, text, ig_steps=128, internals=False)
    target = logit(e.score) - logit(e.baseline_score)
    ids = read_tokens(clf, text)[0]
    bag = clf.model.bag(torch.from_numpy(ids)[None], torch.tensor([len(ids)])).item()
    pad = clf.model.bag(torch.zeros(1, len(ids), dtype=torch.long), torch.tensor([len(ids)])).item()
    assert abs(bag - pad) > 1.0  # the bag matters for this text
    assert sum(e.attributions) == pytest.approx(target, abs=0.02 + 0.01 * abs(target))
    assert abs(e.ig_delta) < 0.02 + 0.01 * abs(target)
    assert attributions(clf, [text, "great"], ig_steps=128)[0] == pytest.approx(e.attributions, abs=1e-4)


def test_shipped_attributions_point_at_sentiment_words(shipped_explained):
    pos = shipped_explained[POSITIVE]
    assert pos.label == "positive"
    for values in (pos.attributions, pos.occlusion):
        assert pos.tokens[int(np.argmax(values))] in {"fantastic", "amazing"}
    neg = shipped_explained[NEGATIVE]
    assert neg.label == "negative"
    for values in (neg.attributions, neg.occlusion):
        assert neg.tokens[int(np.argmin(values))] in {"boring", "awful", "mess"}


def test_batched_attributions_equal_single_ones(tiny):
    texts = ["a great film", "an awful dull plot with a terrible cast and awful music", "great"]
    batched = attributions(tiny, texts, ig_steps=16)
    for text, row in zip(texts, batched):
        assert row == pytest.approx(explain(tiny, text, ig_steps=16, internals=False).attributions, abs=1e-4)


def test_numpy_backend_reloads_torch(tiny_bundle, tiny):
    np_clf = SentimentClassifier.from_pretrained(tiny_bundle, backend="numpy")
    a, b = explain(np_clf, "a great film"), explain(tiny, "a great film")
    assert a.tokens == b.tokens and a.attributions == pytest.approx(b.attributions, abs=1e-5)
    assert np.allclose(a.hidden, b.hidden, atol=1e-6) and a.score == pytest.approx(b.score, abs=1e-6)
    orphan = SentimentClassifier(np_clf.model, np_clf.encoder, np_clf.config, {}, backend="numpy")
    with pytest.raises(SentimentLabError, match="bundle path"):
        explain(orphan, "a great film")


def test_bad_input(tiny):
    with pytest.raises(InputError, match="empty"):
        explain(tiny, "   ")
    with pytest.raises(SentimentLabError, match="ig_steps"):
        explain(tiny, "great", ig_steps=0)


def test_renderings(tiny, tmp_path):
    from rich.console import Console

    from sentiment_lab.analysis.explain import render_terminal, save_html, save_png
    from sentiment_lab.analysis.explain.figures import figure

    e = explain(tiny, "a great film Zorblax but an awful plot")
    console = Console(record=True, width=100)
    console.print(render_terminal(e))
    out = console.export_text()
    assert "zorblax?" in out and e.label in out and "unknown words" in out
    page = save_html(e, tmp_path / "x" / "explain.html").read_text()
    assert "zorblax" in page and page.count("data:image/png;base64,") == 2 and 'class="tok unk"' in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "</span> <span" in page  # spaces between tokens: a 400-token line could not wrap (22,000 px wide)
    assert "logit change from the all-[PAD] baseline" in " ".join(out.split()) and "sums to" not in out
    png = save_png(e, tmp_path / "explain.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["explain.html", "explain.png", "x"]  # no temp files left
    long = explain(tiny, " ".join(["great film"] * 40), internals=False)
    fig = figure(long)
    assert "first 60 of 48" not in fig._suptitle.get_text() and len(fig.axes[-1].get_xticklabels()) == 48
    assert "first 10 of 48" in figure(long, max_tokens=10)._suptitle.get_text()


runner = CliRunner()


def test_cli(tiny_bundle, tmp_path):
    from sentiment_lab.cli import app

    r = runner.invoke(app, ["explain", str(tiny_bundle), "a great film", "--out-dir", str(tmp_path), "--ig-steps", "8"])
    assert r.exit_code == 0, r.output
    assert "Integrated Gradients" in r.output and (tmp_path / "explain.html").exists() and (tmp_path / "explain.png").exists()
    r = runner.invoke(app, ["explain", str(tiny_bundle), "a great film", "-o", str(tmp_path), "--json", "--ig-steps", "4"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["tokens"] == ["a", "great", "film"]
    for args, fragment in (([str(tiny_bundle), "  "], "text is empty"), (["no/such/dir", "great"], "not found"),
                           ([str(tiny_bundle), "a", "b"], "quote the text")):
        r = runner.invoke(app, ["explain", *args, "-o", str(tmp_path / "bad")])
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert r.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], r.output
    assert not (tmp_path / "bad").exists()


def test_ig_convergence_flag_and_note():
    """A delta that is small next to the logit difference passes; a large one is flagged and
    the terminal/HTML renderings say to raise ig_steps."""
    from sentiment_lab.analysis.explain.core import Explanation
    from sentiment_lab.analysis.explain.render import convergence_note

    def make(attr: list[float], delta: float) -> Explanation:
        return Explanation(text="a b", label="positive", score=0.9, tokens=["a", "b"], unknown=[False, False],
                           attributions=attr, occlusion=[0.0, 0.0], trajectory=[0.6, 0.9], attention=None,
                           gates=None, hidden=None, ig_delta=delta, meta={"ig_steps": 8})

    assert make([1.0, 1.0], 0.01).ig_converged
    assert make([1.0, 1.0], 0.01).to_dict()["ig_converged"] is True
    bad = make([1.0, 2.0], 0.8)  # the integral misses 0.8 of a 2.2 logit difference
    assert not bad.ig_converged
    assert "now 8" in convergence_note(bad) and "+0.80" in convergence_note(bad)


def test_a_long_text_figure_shows_where_the_attributions_are(tiny):
    """It showed the first 60 of 400 tokens: for a long review, a flat panel without the words
    the terminal named as decisive."""
    from sentiment_lab.analysis.explain.figures import _window, figure

    a = [0.01] * 100 + [5.0, -4.0, 3.0] + [0.01] * 20
    start = _window(a, 60)
    assert start <= 100 and start + 60 >= 103 and _window(a[:50], 60) == 0
    e = explain(tiny, " ".join(["a plain film"] * 30 + ["great awful great"]), internals=False)
    fig = figure(e, max_tokens=20)
    shown = [t.get_text().rstrip("?") for t in fig.axes[-1].get_xticklabels()]
    top = max(range(len(e.tokens)), key=lambda i: abs(e.attributions[i]))
    start = _window(e.attributions, 20)
    assert 0 < start <= top < start + 20 and shown == e.tokens[start:start + 20]
    assert f"20 of {len(e.tokens)} tokens shown" in fig._suptitle.get_text()
