"""Model bundles: a directory of safetensors + JSON + a model card. Never pickle.

    config.json        the full run config, architecture, labels, versions, file checksums
    tokenizer.json     the fitted `tokenizers` tokenizer
    model.safetensors  the weights
    metrics.json       test (and validation) metrics measured at training time
    history.json       per-epoch training history
    README.md          the model card

The checksums in config.json make a truncated, altered or partial bundle fail on load with
a message naming the file, instead of producing wrong predictions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from sentiment_lab import __version__
from sentiment_lab.fileio import check_dir_target, swap_dir, write_json
from sentiment_lab.config import Config
from sentiment_lab.exceptions import BundleError, SentimentLabError
from sentiment_lab.text.tokenizer import TextEncoder

if TYPE_CHECKING:  # torch is imported lazily: the NumPy runtime loads bundles without it
    import torch

FORMAT_VERSION = 1
CHECKED = ("tokenizer.json", "model.safetensors", "metrics.json", "history.json")
LABELS = ["negative", "positive"]


def default_bundle() -> Path:
    """The model shipped inside the package (trained by `sentiment-lab train` on IMDB)."""
    return Path(str(resources.files("sentiment_lab").joinpath("default_model")))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_pretrained(directory: str | Path, model: "torch.nn.Module", encoder: TextEncoder, cfg: Config,
                    metrics: dict[str, Any] | None = None, history: list[dict] | None = None,
                    card: str | None = None) -> Path:
    """Write a bundle into a temporary sibling directory, then swap it into place."""
    from safetensors.torch import save_file

    directory = check_dir_target(directory, "config.json")
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        encoder.save(tmp / "tokenizer.json")
        state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        write_json(tmp / "metrics.json", metrics or {})
        write_json(tmp / "history.json", history or [])
        meta = {"format_version": FORMAT_VERSION, "sentiment_lab_version": __version__,
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "labels": LABELS, "vocab_size": encoder.vocab_size, "config": cfg.to_dict(),
                "sha256": {name: _sha256(tmp / name) for name in CHECKED}}
        write_json(tmp / "config.json", meta)
        (tmp / "README.md").write_text(card or model_card(meta, metrics or {}), encoding="utf-8")
        swap_dir(tmp, directory, "config.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def read_meta(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"model bundle not found: {directory}")
    path = directory / "config.json"
    if not path.is_file():
        raise BundleError(f"{directory} is not a model bundle: config.json is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        if (directory / "bundle" / "config.json").is_file():
            raise BundleError(f"{directory} is a run folder; its model bundle is {directory / 'bundle'}")
        raise BundleError(f"{path}: unsupported bundle format {meta.get('format_version') if isinstance(meta, dict) else None!r}")
    for name, digest in meta.get("sha256", {}).items():
        f = directory / name
        if not f.is_file():
            raise BundleError(f"bundle {directory} is incomplete: {name} is missing")
        if _sha256(f) != digest:
            raise BundleError(f"bundle {directory}: {name} does not match its checksum (altered or truncated)")
    return meta


def load_parts(directory: str | Path) -> tuple[Config, TextEncoder, dict[str, Any]]:
    """(config, encoder, metadata) of a verified bundle, without touching the weights."""
    directory = Path(directory)
    meta = read_meta(directory)
    try:
        cfg = Config.from_dict(meta["config"])
    except (KeyError, SentimentLabError) as exc:
        raise BundleError(f"{directory}/config.json: bad config: {exc}") from None
    encoder = TextEncoder.load(directory / "tokenizer.json", cfg.text.max_len, cfg.text.truncation)
    return cfg, encoder, meta


def load_pretrained(directory: str | Path, backend: str = "torch") -> tuple[Any, TextEncoder, Config, dict[str, Any]]:
    """(model, encoder, config, bundle metadata) from a verified bundle. backend "torch":
    an RNNClassifier in eval mode on CPU; "numpy": a runtime.NumpyRNN (no torch import)."""
    directory = Path(directory)
    cfg, encoder, meta = load_parts(directory)
    path = directory / "model.safetensors"
    try:
        if backend == "numpy":
            from sentiment_lab.inference.numpy_backend import NumpyRNN

            model = NumpyRNN.load(cfg.model, path)
            _check_shapes(model.w, cfg, encoder.vocab_size, directory)
        else:
            from safetensors.torch import load_file

            from sentiment_lab.models import build_model

            model = build_model(cfg.model, encoder.vocab_size)
            model.load_state_dict(load_file(str(path)))
            model.eval()
    except (SafetensorError, RuntimeError, OSError, KeyError) as exc:
        # one line: torch's "Error(s) in loading state_dict" header, then what did not fit, by name
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise BundleError(f"{path} does not fit the architecture: {detail}") from None
    return model, encoder, cfg, meta


def _check_shapes(state: dict[str, Any], cfg: Config, vocab_size: int, directory: Path) -> None:
    """Every tensor the NumPy forward pass reads is present with its expected shape (the torch
    path gets the same guarantee from load_state_dict's strict check)."""
    from sentiment_lab.inference.numpy_backend import NumpyRNN

    for name, shape in NumpyRNN.expected_shapes(cfg.model, vocab_size).items():
        found = state.get(name)
        if found is None or tuple(found.shape) != shape:
            raise BundleError(f"{directory}/model.safetensors does not fit the architecture: {name} has shape "
                              f"{None if found is None else tuple(found.shape)}, expected {shape}")


def model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
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
