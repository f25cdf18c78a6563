"""Look inside a prediction: token attributions (Integrated Gradients, occlusion), the
running prediction, and the RNN's gates, hidden states and attention for one text.

    from sentiment_lab import SentimentClassifier
    from sentiment_lab.analysis.explain import explain, save_html, save_png
    clf = SentimentClassifier.from_pretrained()
    e = explain(clf, "The first half was dull, but the ending was brilliant.")
    e.tokens, e.attributions, e.trajectory, e.gates["forget"]
    save_html(e, "explain.html"); save_png(e, "explain.png")
"""
import importlib

from sentiment_lab.analysis.explain.core import Explanation, attributions, explain, read_tokens, torch_model

__all__ = ["Explanation", "attributions", "explain", "read_tokens", "torch_model",
           "render_terminal", "render_html", "save_html", "save_png", "figure"]


def __getattr__(name: str):
    # Rendering pulls in matplotlib, Jinja2 and Rich: imported only when asked for.
    modules = {"render_terminal": "render", "render_html": "render", "save_html": "render",
               "save_png": "figures", "figure": "figures"}
    if name in modules:
        return getattr(importlib.import_module(f"sentiment_lab.analysis.explain.{modules[name]}"), name)
    raise AttributeError(f"module 'sentiment_lab.analysis.explain' has no attribute {name!r}")
