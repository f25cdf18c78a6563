"""Per-call latency of the old and new encoder on the server's micro-batch (bench_serve's seven
sentences and the first again), 3,000 calls per variant per round, 6 rounds alternating:
p50/p99/p99.9/max in microseconds. Run from the repository root:

    .venv/bin/python benchmarks/probes/text_path/encoder_tail.py
    TOKENIZERS_PARALLELISM=false .venv/bin/python benchmarks/probes/text_path/encoder_tail.py
"""
import sys
import time

import numpy as np

sys.path.insert(0, "benchmarks")
from bench_serve import SENTENCES  # noqa: E402
from bench_text_path import OldEncoder  # noqa: E402

from sentiment_lab.inference.classifier import SentimentClassifier  # noqa: E402

enc = SentimentClassifier.from_pretrained("imdb").encoder
variants = {"old": OldEncoder(enc).encode, "new": enc.encode}
batch = SENTENCES + SENTENCES[:1]
res: dict[str, list[float]] = {name: [] for name in variants}
for r in range(6):
    for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
        for _ in range(3000):
            t0 = time.perf_counter()
            variants[name](batch)
            res[name].append((time.perf_counter() - t0) * 1e6)
for name, us in res.items():
    print(name, "p50 %.1f us p99 %.1f us p99.9 %.1f max %.1f" % (*np.percentile(us, [50, 99, 99.9]), max(us)))
print("new: indices of calls over 1 ms:", np.nonzero(np.array(res["new"]) > 1000)[0][:20], "of", len(res["new"]))
