"""What the embedding layer learned: a 2-D map of chosen words, their nearest neighbours by
cosine over the whole vocabulary, and an export for the TensorBoard Embedding Projector.

The matrix is read straight from the bundle's model.safetensors (`embedding.weight`), so
no torch model is built. Ids 0 and 1 ([PAD], [UNK]) are never shown or returned as
neighbours: they are placeholders, not words. Everything is seeded: the same bundle and
words give the same map, neighbours and files.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from sentiment_lab.fileio import write_json, write_text
from sentiment_lab.exceptions import BundleError, ConfigError
from sentiment_lab.analysis.plots import _plt, _save
from sentiment_lab.text.tokenizer import PAD_ID, UNK_ID

# The course notebook's four groups of words.
DEFAULT_GROUPS: dict[str, list[str]] = {
    "positive": ["good", "great", "excellent", "amazing", "wonderful", "fantastic", "best", "love", "perfect",
                 "brilliant"],
    "negative": ["bad", "terrible", "awful", "worst", "horrible", "boring", "waste", "poor", "hate", "stupid"],
    "context": ["movie", "film", "story", "plot", "actor", "acting", "director", "scene", "character", "time"],
    "descriptive": ["beautiful", "funny", "interesting", "dark", "long", "simple", "original", "classic",
                    "predictable", "slow"],
}
GROUP_COLORS = {"positive": "tab:green", "negative": "tab:red", "context": "tab:blue", "descriptive": "tab:orange"}
METHODS = ("tsne", "pca", "umap")
FIRST_WORD_ID = max(PAD_ID, UNK_ID) + 1  # the first id after [PAD] and [UNK]


@dataclass
class EmbeddingTable:
    """The embedding matrix with its vocabulary: `words[i]` is the text of id i."""
    matrix: np.ndarray  # (V, E)
    words: list[str]
    bundle: Path

    def unit(self) -> np.ndarray:
        return self.matrix / (np.linalg.norm(self.matrix, axis=1, keepdims=True) + 1e-12)


@dataclass
class EmbeddingReport:
    words: list[str]  # found in the vocabulary, in the order given
    groups: list[str]  # the group of each found word
    ids: list[int]
    missing: dict[str, list[str]]  # group -> words not in the vocabulary
    coords: np.ndarray  # (N, 2)
    method: str
    neighbours: dict[str, list[tuple[str, float]]]
    paths: dict[str, str] = field(default_factory=dict)


def load_embedding(bundle: str | Path | None = None) -> EmbeddingTable:
    """The embedding matrix and id -> word list of a bundle (a shipped name, a folder, None: the
    default shipped model)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from sentiment_lab.inference.bundle import load_parts, resolve_model

    directory = resolve_model(bundle)  # a shipped name, a folder, None: the default shipped model
    _, encoder, _ = load_parts(directory)  # verifies checksums
    try:
        matrix = load_file(str(directory / "model.safetensors"))["embedding.weight"].astype(np.float32)
    except (SafetensorError, KeyError, OSError) as exc:
        raise BundleError(f"{directory}/model.safetensors has no readable embedding.weight: {exc}") from None
    words = [""] * encoder.vocab_size
    for token, i in encoder.tokenizer.get_vocab().items():
        words[i] = token
    decoder = encoder.tokenizer.decoder  # byte-level BPE: show "Ġgood" as "good"
    if decoder is not None:
        words = [decoder.decode([w]).strip() or w for w in words]
    if matrix.shape[0] != len(words):
        raise BundleError(f"{directory}: embedding has {matrix.shape[0]} rows but the tokenizer {len(words)} ids")
    return EmbeddingTable(matrix, words, directory)


def word_id(table: EmbeddingTable, word: str) -> int | None:
    """The id of `word` as the model reads it (normalised by the bundle's tokenizer), or None
    when it is unknown or splits into several pieces."""
    ids = _tokenizer(table).encode(word, add_special_tokens=False).ids
    return ids[0] if len(ids) == 1 and ids[0] >= FIRST_WORD_ID else None


_TOKENIZERS: dict[Path, Any] = {}


def _tokenizer(table: EmbeddingTable) -> Any:
    if table.bundle not in _TOKENIZERS:
        from tokenizers import Tokenizer

        _TOKENIZERS[table.bundle] = Tokenizer.from_file(str(table.bundle / "tokenizer.json"))
    return _TOKENIZERS[table.bundle]


def nearest(table: EmbeddingTable, ids: Sequence[int], k: int = 8) -> list[list[tuple[str, float]]]:
    """The k nearest words of each id by cosine similarity over the whole vocabulary
    (itself, [PAD] and [UNK] excluded), most similar first."""
    if k < 1:
        raise ConfigError(f"the number of neighbours must be at least 1, got {k}")
    unit = table.unit()
    sims = unit[list(ids)] @ unit.T  # (N, V)
    sims[:, :FIRST_WORD_ID] = -np.inf
    sims[np.arange(len(ids)), list(ids)] = -np.inf
    k = min(k, unit.shape[0] - FIRST_WORD_ID - 1)
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return [[(table.words[j], float(sims[r, j])) for j in row] for r, row in enumerate(top)]


def project(vectors: np.ndarray, method: str = "tsne", seed: int = 42) -> tuple[np.ndarray, tuple[str, str]]:
    """(N, 2) coordinates of N vectors and the names of the two axes. Cosine geometry
    throughout (what `nearest` uses): t-SNE and UMAP with the cosine metric, PCA on unit vectors. t-SNE's perplexity and
    UMAP's neighbourhood shrink with N, since both must stay below the number of points."""
    if method not in METHODS:
        raise ConfigError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}")
    n = len(vectors)
    if n < 3:
        raise ConfigError(f"need at least 3 words in the vocabulary to draw a map, got {n}")
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed)
        coords = pca.fit_transform(unit)
        var = pca.explained_variance_ratio_
        return coords, (f"principal component 1 ({var[0]:.0%} of variance)",
                        f"principal component 2 ({var[1]:.0%} of variance)")
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (n - 1) / 4)))
        coords = TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed,
                      max_iter=1000).fit_transform(unit)
        return coords, (f"t-SNE dimension 1 (perplexity {perplexity:g})", "t-SNE dimension 2")
    try:
        import umap
    except ImportError:
        raise ConfigError("UMAP needs umap-learn: pip install 'sentiment-lab[umap]'") from None
    reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), metric="cosine", random_state=seed,
                        min_dist=0.3, init="spectral" if n > 10 else "random")
    with warnings.catch_warnings():  # "n_jobs overridden to 1 by setting random_state": wanted, for reproducibility
        warnings.simplefilter("ignore", UserWarning)
        coords = reducer.fit_transform(unit)
    return coords, (f"UMAP dimension 1 ({reducer.n_neighbors} neighbours)", "UMAP dimension 2")


def orient(coords: np.ndarray, first_group: Sequence[bool]) -> np.ndarray:
    """Rotate a 2-D map onto its principal axes, the first group on the right.

    t-SNE and UMAP maps have no meaningful orientation; rotating them changes no distance.
    Sentiment embeddings split into two far-apart clusters, and a map left on a diagonal
    squeezes each into a corner where labels cannot fit; along x, each cluster gets the
    whole height of the figure."""
    centred = coords - coords.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt.T
    mask = np.asarray(first_group, dtype=bool)
    if mask.any() and out[mask, 0].mean() < 0:
        out[:, 0] = -out[:, 0]
    return out


def draw_map(coords: np.ndarray, words: Sequence[str], groups: Sequence[str], out_dir: str | Path,
             title: str, axis_labels: tuple[str, str] = ("dimension 1", "dimension 2"),
             stem: str = "embedding_map") -> Path:
    """Scatter coloured by group, every point labelled; labels are pushed apart with
    adjustText (with a connector line back to their point) so that none overlap."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 8.5), layout="constrained")
    order = list(dict.fromkeys(groups))
    palette = iter(("tab:purple", "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan"))
    colors = {g: GROUP_COLORS.get(g) or next(palette, "black") for g in order}
    for g in order:
        m = np.array([x == g for x in groups])
        ax.scatter(coords[m, 0], coords[m, 1], s=45, color=colors[g], label=f"{g} ({int(m.sum())})", alpha=0.85,
                   edgecolors="white", linewidths=0.5, zorder=3)
    texts = [ax.text(x, y, w, fontsize=10, color=colors[g], zorder=4)
             for (x, y), w, g in zip(coords, words, groups)]
    span = np.ptp(coords, axis=0) + 1e-9
    ax.set_xlim(coords[:, 0].min() - 0.12 * span[0], coords[:, 0].max() + 0.12 * span[0])
    ax.set_ylim(coords[:, 1].min() - 0.08 * span[1], coords[:, 1].max() + 0.08 * span[1])
    try:
        from adjustText import adjust_text

        # Strong repulsion: projections of sentiment embeddings pack each polarity into a
        # tight cluster, and the labels must spread into the empty space around it.
        adjust_text(texts, x=coords[:, 0], y=coords[:, 1], ax=ax, expand=(1.6, 2.0), force_text=(0.5, 0.8),
                    force_static=(0.3, 0.5), force_explode=(0.3, 0.8), max_move=30, time_lim=5,
                    arrowprops=dict(arrowstyle="-", color="grey", lw=0.6, alpha=0.7))
    except ImportError:  # a fixed offset keeps labels off their own marker at least
        for t in texts:
            t.set_position((t.get_position()[0] + 0.01 * span[0], t.get_position()[1] + 0.01 * span[1]))
    ax.set_xlabel(f"{axis_labels[0]}  [x and y scaled separately]")
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title)
    ax.legend(title="word group", loc="best", framealpha=0.9)
    ax.grid(alpha=0.2)
    return _save(fig, Path(out_dir), stem)


def export_projector(table: EmbeddingTable, out_dir: str | Path, top_n: int = 5000,
                     chosen: Mapping[int, str] | None = None) -> tuple[Path, Path]:
    """vectors.tsv + metadata.tsv (header `Word\\tGroup`) for https://projector.tensorflow.org:
    the top_n most frequent words (word-level ids are in frequency order) plus the chosen
    ids, each chosen word tagged with its group, the others `other`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = dict(chosen or {})
    ids = list(range(FIRST_WORD_ID, min(FIRST_WORD_ID + top_n, len(table.words))))
    ids += [i for i in chosen if i not in set(ids)]
    clean = [w.replace("\t", " ").replace("\n", " ") or "(blank)" for w in table.words]
    meta = "Word\tGroup\n" + "".join(f"{clean[i]}\t{chosen.get(i, 'other')}\n" for i in ids)
    vecs = "".join("\t".join(f"{v:.5g}" for v in table.matrix[i]) + "\n" for i in ids)
    write_text(out / "vectors.tsv", vecs, newline="\n")
    write_text(out / "metadata.tsv", meta, newline="\n")
    return out / "vectors.tsv", out / "metadata.tsv"


def parse_words(spec: str | None) -> dict[str, list[str]]:
    """`--words` as groups: "good,great,bad" (one group, `chosen`) or
    "positive:good,great;negative:bad,awful"; None gives the notebook's four groups."""
    if spec is None:
        return {g: list(ws) for g, ws in DEFAULT_GROUPS.items()}
    groups: dict[str, list[str]] = {}
    for part in spec.split(";"):
        name, _, words = part.rpartition(":")
        ws = [w.strip() for w in words.split(",") if w.strip()]
        if ws:
            groups.setdefault(name.strip() or "chosen", []).extend(ws)
    if not groups:
        raise ConfigError("--words holds no words; give them comma-separated, e.g. good,great,bad")
    return groups


def embedding_report(bundle: str | Path | None = None, groups: Mapping[str, Sequence[str]] | None = None,
                     method: str = "tsne", k: int = 8, out_dir: str | Path | None = None, top_n: int = 5000,
                     seed: int = 42) -> EmbeddingReport:
    """Map, neighbours and missing words for `groups` (default: the notebook's four); with
    `out_dir`, also writes embedding_map.png/.svg, neighbours.json and the projector files."""
    table = load_embedding(bundle)
    groups = groups if groups is not None else DEFAULT_GROUPS
    words, labels, ids, missing, seen = [], [], [], {}, set()
    for g, ws in groups.items():
        for w in ws:
            i = word_id(table, w)
            if i is None:
                missing.setdefault(g, []).append(w)
            elif i not in seen:
                seen.add(i)
                words.append(table.words[i])
                labels.append(g)
                ids.append(i)
    if len(ids) < 3:
        raise ConfigError(f"need at least 3 words the vocabulary knows to draw a map; found {words or 'none'}, "
                          f"missing {[w for ws in missing.values() for w in ws]}")
    coords, axes = project(table.matrix[ids], method, seed)
    coords = orient(coords, [g == labels[0] for g in labels])
    neigh = dict(zip(words, nearest(table, ids, k)))
    rep = EmbeddingReport(words, labels, ids, missing, coords, method, neigh)
    if out_dir is not None:

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        name = {"tsne": "t-SNE", "pca": "PCA", "umap": "UMAP"}[method]
        where = table.bundle.parent.name if table.bundle.name == "bundle" else table.bundle.name  # runs/x/bundle -> x
        title = f"Word embeddings of {where}: {name} map of {len(words)} words (cosine)"
        rep.paths["map"] = str(draw_map(coords, words, labels, out, title, axes))
        write_json(out / "neighbours.json", {
            "bundle": str(table.bundle), "method": method, "k": k, "seed": seed, "missing": missing,
            "words": [{"word": w, "group": g, "id": i, "x": float(x), "y": float(y),
                       "neighbours": [{"word": n, "cosine": round(s, 4)} for n, s in neigh[w]]}
                      for w, g, i, (x, y) in zip(words, labels, ids, coords)]})
        rep.paths["neighbours"] = str(out / "neighbours.json")
        vec, meta = export_projector(table, out, top_n, dict(zip(ids, labels)))
        rep.paths["projector_vectors"], rep.paths["projector_metadata"] = str(vec), str(meta)
    return rep
