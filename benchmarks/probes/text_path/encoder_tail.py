"""Per-call latency of the old and new encoder on the server's micro-batch (bench_serve's seven
sentences and the first again), 3,000 calls per variant per round, 6 rounds alternating:
p50/p99/p99.9/max in microseconds. Run from the repository root:
    .venv/bin/python benchmarks/probes/text_path/encoder_tail.py
    TOKENIZERS_PARALLELISM=false .venv/bin/python benchmarks/probes/text_path/encoder_tail.py
"""
import sys, time, statistics, numpy as np
sys.path.insert(0, "benchmarks")
from bench_text_path import OldEncoder
from bench_serve import SENTENCES
from sentiment_lab.inference.classifier import SentimentClassifier
clf = SentimentClassifier.from_pretrained("imdb")
enc = clf.encoder
old = OldEncoder(enc)
batch = SENTENCES + SENTENCES[:1]
res = {"old": [], "new": []}
for r in range(6):
    for name, f in (("old", old.encode), ("new", enc.encode)) if r % 2 == 0 else (("new", enc.encode), ("old", old.encode)):
        for _ in range(3000):
            t0 = time.perf_counter(); f(batch); res[name].append(time.perf_counter() - t0)
for k, v in res.items():
    a = np.array(v) * 1e6
    print(k, "p50 %.1f us p99 %.1f us p99.9 %.1f max %.1f" % (np.percentile(a, 50), np.percentile(a, 99), np.percentile(a, 99.9), a.max()))
a = np.array(res["new"]) * 1e6
print("new: indices of calls over 1 ms:", np.nonzero(a > 1000)[0][:20], "of", len(a))
