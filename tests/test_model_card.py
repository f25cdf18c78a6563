"""The model card comes from inference/templates/model_card.md.j2 and reads, byte for byte, as
the 68 lines of string building it replaced (kept below as `old_model_card`, verbatim): on the
shipped model's metadata (its frozen output is tests/data/model_card_imdb.md), on the
tiny bundle, and on metadata that turns every optional clause on and off."""
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sentiment_lab.inference.bundle import model_card
from sentiment_lab.inference.shipped import shipped_bundle

DATA = Path(__file__).parent / "data"


# verbatim copy of inference/bundle.py's model_card before the template (commit 3e489ee)
def old_model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    cfg = meta["config"]
    refit = not cfg["data"]["val_fraction"]  # trained on all of train, no validation: see train.py
    test = metrics.get("test", {})
    lines = [
        "# sentiment-lab model card", "",
        f"- Created: {meta['created']} with sentiment-lab {meta['sentiment_lab_version']}",
        f"- Architecture: `{cfg['model']['arch']}`, embedding {cfg['model']['embedding_dim']}, "
        f"hidden {cfg['model']['hidden_size']} x {cfg['model']['num_layers']} layer(s), "
        f"{'bidirectional' if cfg['model']['bidirectional'] else 'unidirectional'}, pooling `{cfg['model']['pooling']}`"
        + (f"; hashed {'bi' if cfg['model']['ngram_order'] == 2 else 'bi- and tri'}gram vectors "
           f"({cfg['model']['ngram_buckets']:,} buckets x {cfg['model']['ngram_dim']})"
           if cfg['model'].get('ngram_buckets') else "")  # .get: bundles older than n-grams lack the keys
        + (f"; plus a linear term over the review's distinct hashed "
           f"{['words', 'words and bigrams', 'words, bigrams and trigrams'][cfg['model']['bag_order'] - 1]} "
           f"({cfg['model']['bag_buckets']:,} buckets)" if cfg['model'].get('bag_buckets') else ""),
        f"- Tokenizer: {cfg['text']['level']} level, {meta['vocab_size']:,} ids, max_len {cfg['text']['max_len']} "
        f"({cfg['text']['truncation']} kept)"
        + (f"; {cfg['text']['stopwords']} function words dropped (sentiment_lab.text.tokenizer.STOPWORDS)"
           if cfg['text'].get('stopwords', "none") != "none" else ""),  # .get: older bundles lack the key
        f"- Data: `{Path(cfg['data']['source']).name}`" + (f" from `{Path(cfg['data']['path']).name}`" if cfg['data']['path'] else "")
        + (f", test on `{Path(cfg['data']['test_path']).name}`" if cfg['data'].get('test_path') else "")
        + (f", text column `{cfg['data']['text_column']}`, label column `{cfg['data']['label_column']}`"
           if cfg['data']['source'] not in ("imdb", "synthetic") else "")
        + (f" (ratings >= {cfg['data']['rating_threshold']:g} positive)" if cfg['data'].get('rating_threshold') is not None
           else "")
        + (f", limited to {cfg['data']['limit']:,} rows" if cfg['data']['limit'] else "")
        + (f"; validation = {cfg['data']['val_fraction']:.0%} of train (stratified, "
           + ("blocks of consecutive ids, " if cfg["data"].get("val_split") == "blocks" else "")
           + f"seed {cfg['train']['seed']})" if not refit
           else "; no validation split: trained on all of train (a final refit with settings chosen beforehand)"),
        f"- Training: {cfg['train']['epochs']} epoch(s){'' if refit else ' max'}, batch {cfg['train']['batch_size']}, Adam lr {cfg['train']['lr']}, "
        + (f"decayed {cfg['train']['lr_schedule']} to 0, " if cfg['train'].get("lr_schedule", "constant") != "constant" else "")
        + (f"gradient norm clipped at {cfg['train']['grad_clip']}, " if cfg['train'].get("grad_clip") else "")
        + (f"augmentation {cfg['train']['augment']} ({cfg['train']['augment_alpha']:.0%}), "
           if cfg['train'].get("augment", "none") != "none" else "")
        + (f"adversarial steps of {cfg['train']['adversarial']:.0%} of the input vectors' norm, "
           if cfg['train'].get("adversarial") else "")
        + (f"virtual adversarial steps of {cfg['train']['virtual_adversarial']:.0%} of the input vectors' norm, "
           if cfg['train'].get("virtual_adversarial") else "")
        + (f"after {cfg['train']['pretrain_epochs']} epoch(s) of language-model pretraining on the training texts, "
           if cfg['train'].get("pretrain_epochs") else "")
        + (f"moving average of the weights (decay {cfg['train']['ema']}){'' if refit else ' validated and'} kept, "
           if cfg['train'].get("ema") else "")
        + ("last epoch kept" if refit else "best epoch on validation loss kept")
        + (f" (epoch {metrics['best_epoch']})" if metrics.get("best_epoch") else ""),
        "- Reproduce: `sentiment-lab train --preset CONFIG.toml` with the `config` block of config.json", "",
        "## Measured metrics", "",
    ]
    if test:
        lines += ["| split | n | positive share | accuracy | macro F1 | ROC-AUC | loss |",
                  "|---|---|---|---|---|---|---|"]
        for split in ("val", "test"):
            m = metrics.get(split)
            if m:
                pos = m.get("per_class", {}).get("positive", {}).get("support")
                share = f"{pos / m['n']:.1%}" if pos is not None and m["n"] else "-"
                lines.append(f"| {split} | {m['n']:,} | {share} | {m['accuracy']:.4f} | {m['f1_macro']:.4f} | "
                             f"{m.get('roc_auc') or float('nan'):.4f} | {m['loss']:.4f} |")
    else:
        lines.append("No test set was evaluated for this bundle.")
    lines += ["", "## Limits", "",
              "A recurrent classifier trained on one domain ("
              + ("IMDB: long English movie reviews" if cfg["data"]["source"] == "imdb" else "the data named above")
              + "); it reads at most "
              f"{cfg['text']['max_len']} tokens, does not know words outside its vocabulary, and is often wrong on sarcasm, "
              "irony and mixed reviews. Scores are sigmoid outputs, not calibrated probabilities.", ""]
    return "\n".join(lines)


def shipped() -> tuple[dict[str, Any], dict[str, Any]]:
    d = shipped_bundle("imdb")
    return (json.loads((d / "config.json").read_text(encoding="utf-8")),
            json.loads((d / "metrics.json").read_text(encoding="utf-8")))


def variant(changes: dict[str, Any], metrics_changes: dict[str, Any] | None = None, drop: tuple[str, ...] = ()):
    meta, metrics = shipped()
    meta, metrics = copy.deepcopy(meta), copy.deepcopy(metrics)
    for key, value in changes.items():
        section, name = key.split(".")
        meta["config"][section][name] = value
    for key in drop:  # bundles older than a setting lack its key
        section, name = key.split(".")
        meta["config"][section].pop(name, None)
    metrics.update(metrics_changes or {})
    return meta, {k: v for k, v in metrics.items() if v is not None}


VAL = {"n": 2500, "accuracy": 0.87654, "f1_macro": 0.8, "roc_auc": None, "loss": 0.31,
       "per_class": {"positive": {"support": 1234}}}
VARIANTS = {
    "shipped": ({}, None, ()),
    "ngrams_bag": ({"model.ngram_buckets": 100000, "model.ngram_order": 2, "model.ngram_dim": 16,
                    "model.bag_buckets": 2 ** 20, "model.bag_order": 1}, None, ()),
    "trigrams_bag3": ({"model.ngram_buckets": 5000, "model.ngram_order": 3, "model.ngram_dim": 8,
                       "model.bag_buckets": 77, "model.bag_order": 3, "model.bidirectional": False}, None, ()),
    "bag2_stopwords": ({"model.bag_buckets": 1000, "model.bag_order": 2, "text.stopwords": "english"}, None, ()),
    "old_bundle": ({}, None, ("model.ngram_buckets", "model.bag_buckets", "text.stopwords", "data.test_path",
                              "data.rating_threshold", "data.val_split", "train.lr_schedule", "train.grad_clip",
                              "train.augment", "train.adversarial", "train.virtual_adversarial",
                              "train.pretrain_epochs", "train.ema")),
    "csv_validation": ({"data.source": "csv", "data.path": "/x/reviews & more.csv", "data.test_path": "/y/test.csv",
                        "data.text_column": "review", "data.label_column": "stars", "data.rating_threshold": 7.0,
                        "data.limit": 12345, "data.val_fraction": 0.1, "data.val_split": "blocks"},
                       {"val": VAL, "best_epoch": 3}, ()),
    "synthetic_val_all_training": ({"data.source": "synthetic", "data.path": None, "data.val_fraction": 0.25,
                                    "train.lr_schedule": "cosine", "train.grad_clip": 1.0, "train.augment": "eda",
                                    "train.augment_alpha": 0.1, "train.adversarial": 0.02,
                                    "train.virtual_adversarial": 0.05, "train.pretrain_epochs": 2,
                                    "train.ema": 0.999}, {"val": VAL, "best_epoch": 0}, ()),
    "refit_everything": ({"train.lr_schedule": "linear", "train.grad_clip": 5, "train.augment": "synonym",
                          "train.augment_alpha": 0.3, "train.adversarial": 0.5, "train.virtual_adversarial": 1.0,
                          "train.pretrain_epochs": 1, "train.ema": 0.99}, {"best_epoch": 7}, ()),
    "no_test": ({}, {"test": None}, ()),
    "val_only": ({"data.val_fraction": 0.2}, {"test": None, "val": VAL}, ()),
    "no_support": ({}, {"test": {"n": 0, "accuracy": 1.0, "f1_macro": 1.0, "roc_auc": 0.0, "loss": 0.0}}, ()),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_template_reads_as_the_old_function(name):
    meta, metrics = variant(*VARIANTS[name])
    expected = old_model_card(meta, metrics)
    assert model_card(meta, metrics) == expected


def test_shipped_model_card_is_frozen():
    """The shipped imdb model's card, as the old function wrote it before the template existed."""
    frozen = (DATA / "model_card_imdb.md").read_bytes().decode("utf-8")
    assert model_card(*shipped()) == frozen


def test_tiny_bundle_card(tiny_bundle):
    meta = json.loads((tiny_bundle / "config.json").read_text(encoding="utf-8"))
    metrics = json.loads((tiny_bundle / "metrics.json").read_text(encoding="utf-8"))
    card = model_card(meta, metrics)
    before = {k: v for k, v in metrics.items() if k != "invariance"}  # the section the old function lacked
    assert model_card(meta, before) == old_model_card(meta, before)
    assert (tiny_bundle / "README.md").read_text(encoding="utf-8") == card  # what train wrote
    inv = metrics["invariance"]  # measured at the end of training (training/finish.py)
    assert inv["language"] == "en" and len(inv["groups"]) == 7
    assert "## Invariance to protected attributes" in card and "| religion | 600 |" in card
    assert card.replace(card[card.index("## Invariance"):card.index("## Limits")], "") == model_card(meta, before)
    assert "| val |" in card and "synthetic" in card


def test_a_mixture_card_states_each_dataset_test_accuracy():
    """Issue 30: a card states its per-dataset test accuracy; a mixture's metrics.json has it in
    test_by_source (training/finish.py), which the card lists under the overall table."""
    by_source = {"imdb": {**VAL, "n": 25000, "accuracy": 0.88123, "f1_macro": 0.881},
                 "sst2": {**VAL, "n": 1821, "accuracy": 0.84567, "f1_macro": 0.8456}}
    meta, metrics = variant({"data.source": "imdb+sst2"}, {"test_by_source": by_source})
    card = model_card(meta, metrics)
    assert "- Data: `imdb+sst2`" in card
    table = card[card.index("\nTest accuracy per dataset"):card.index("\n## Limits")]
    assert "| imdb | 25,000 |" in table and "| 0.8812 |" in table
    assert "| sst2 | 1,821 |" in table and "| 0.8457 |" in table
    assert "| all (pooled) |" in table
    assert "trained on the datasets named above" in card  # not "one domain"


def test_a_card_says_how_many_training_rows_are_negated_copies():
    """data.negation adds made-up training rows (data/negation.py): the card says how many."""
    meta, metrics = variant({"data.source": "imdb+sst2", "data.negation": 3}, {"negated_train_rows": 2446})
    card = model_card(meta, metrics)
    line = next(x for x in card.splitlines() if x.startswith("- Negated copies:"))
    assert "2,446 training rows" in line and "`data.negation` = 3" in line
    assert card.index("- Negated copies:") < card.index("- Reproduce:")
    plain, plain_metrics = variant({}, None)
    assert "Negated copies" not in model_card(plain, plain_metrics)


def test_a_card_says_when_proper_nouns_read_as_unknown():
    """text.proper_nouns = "unknown" (text/proper_nouns.py) changes what the model can see: the card says so."""
    meta, metrics = variant({"text.proper_nouns": "unknown"}, None)
    line = next(x for x in model_card(meta, metrics).splitlines() if x.startswith("- Tokenizer:"))
    assert "proper nouns (words the training texts capitalise mid-sentence" in line
    plain, plain_metrics = variant({}, None)
    assert "proper nouns" not in model_card(plain, plain_metrics)
