"""Exploratory check on the blocks validation split (seed 42): logits of the RNN alone (the bilstm_attention
model of adversarial_cpu/attention_validation_seed42_xeon, trained on the 20k split; its bundle is not in
the repository) and of the bag-of-n-grams term trained alone, summed with weights: does an ensemble help?
    D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz .venv/bin/python benchmarks/probes/bag_cpu/ens_check.py   # log: benchmarks/results/bag_cpu/ens_check.log"""
import os, sys, numpy as np, torch
from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits
from sentiment_lab.text.tokenizer import TextEncoder
from sentiment_lab.inference.classifier import SentimentClassifier
from sentiment_lab.text.batching import predict_logits
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))  # benchmarks/ (this file is in benchmarks/probes/bag_cpu/)
from ablation_bag_alone import train_bag
cfg = load_config("best"); cfg.data.path = os.environ["D"]
sp = load_splits(cfg.data, seed=42, progress=False)
y = np.array([r.label for r in sp.val])
clf = SentimentClassifier.from_pretrained("/work/experiments/attn_seed42_xeon/runs/bilstm_attention__patience=9__seed42/bundle")
rnn = predict_logits(clf.model, clf.encoder.encode([r.text for r in sp.val]), 64, torch.device("cpu"))
print("rnn alone", ((rnn > 0) == y).mean(), flush=True)
enc = TextEncoder.fit((r.text for r in sp.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation)
xtr, xva = enc.encode([r.text for r in sp.train]), enc.encode([r.text for r in sp.val])
predict, _ = train_bag(cfg, xtr, np.array([r.label for r in sp.train]), 42, xva, y)  # benchmarks/ablation_bag_alone.py
b = predict(xva)
print("bag alone", ((b > 0) == y).mean())
for w in [0.25, 0.5, 1, 2, 4]:
    print("rnn + w*bag, w =", w, (((rnn + w * b) > 0) == y).mean())
print("corr of logits", np.corrcoef(rnn, b)[0, 1], "both wrong", (((rnn > 0) != y) & ((b > 0) != y)).mean(), "rnn wrong", ((rnn > 0) != y).mean(), "bag wrong", ((b > 0) != y).mean())
