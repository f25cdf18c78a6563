"""The course notebook (notebooks/cours_lstm_imdb.ipynb) runs from top to bottom on a small
subset, in a real Jupyter kernel, and shows what each section promises."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "cours_lstm_imdb.ipynb"


def _texts(nb) -> str:
    """Every printed line and every text/plain result of the executed notebook."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "data" in o:
                out.append(o.data.get("text/plain", ""))
    return "\n".join(out)


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert NOTEBOOK.stat().st_size < 1_000_000
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    titles = [m.group(1) for c in nb.cells if c.cell_type == "markdown"
              for m in re.finditer(r"^## \d+\. (.+)$", c.source, re.M)]
    assert titles == ["Introduction", "Configuration", "Exploration des données", "Préparation : du texte aux indices",
                      "Le modèle", "Entraînement", "Test", "Les embeddings", "Vos propres phrases",
                      "Limites et erreurs", "Comparaison", "Questions"]


def test_notebook_runs_on_a_small_subset(tmp_path, monkeypatch):
    # The kernel inherits this environment: 600 reviews, one epoch, outputs in tmp_path. The
    # data is the IMDB archive beside the checkout when there is one, else the synthetic corpus.
    monkeypatch.setenv("SENTIMENT_LAB_NB_LIMIT", "600")
    monkeypatch.setenv("SENTIMENT_LAB_NB_EPOCHS", "1")
    monkeypatch.setenv("SENTIMENT_LAB_NB_OUT", str(tmp_path))
    monkeypatch.delenv("SENTIMENT_LAB_NB_DATA", raising=False)
    # One OpenMP thread: on a shared 2-core machine, two threads spin-waiting against other
    # jobs made this test take 280 s instead of 50 s (same notebook, same load).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" is ipykernel's own kernel: jupyter_client starts it with this interpreter
    # (sys.executable), so the kernel sees the same installed sentiment_lab as the tests.
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError at the first failing cell (input() would fail too)

    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    text = _texts(nb)
    assert re.search(r"Exactitude sur le test : \d{1,3}\.\d\d% \(600 critiques\)", text)
    assert re.search(r"480 critiques d'entraînement, 120 de validation, 600 de test", text)
    assert re.search(r"Défis réussis : notre modèle \d+\.\d%, modèle livré \d+\.\d%", text)
    assert re.search(r"\d+ erreurs sur 600 critiques de test", text)
    # the tokenizer shown is the one fit() saves (function words dropped), cut counted in its tokens
    assert "['movie', 'not', 'good', 'great', '!']" in text
    assert re.search(r"\d+\.\d% des critiques dépassent MAX_LEN = 200 tokens \(sur 480\)", text)
    assert re.search(r"(positive|negative), P\(positif\) = 0\.\d\d", text)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    # 3 data figures, learning curves, confusion matrix, reliability diagram, embedding map,
    # explanation, error rates
    assert images == 9
    assert (tmp_path / "run" / "bundle" / "model.safetensors").is_file()
    assert (tmp_path / "embeddings" / "vectors.tsv").is_file()
