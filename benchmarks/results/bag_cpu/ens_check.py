"""Exploratory check on the blocks validation split (seed 42): logits of the RNN alone (the bilstm_attention
model of adversarial_cpu/attention_validation_seed42_xeon, trained on the 20k split; its bundle is not in
the repository) and of the bag-of-n-grams term trained alone, summed with weights: does an ensemble help?"""
import os, sys, numpy as np, torch
from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits
from sentiment_lab.models.rnn import BagOfNgrams
from sentiment_lab.text import TextEncoder, pad_batch
from sentiment_lab.classifier import SentimentClassifier
from sentiment_lab.batching import predict_logits
cfg = load_config("best"); cfg.data.path = os.environ["D"]
sp = load_splits(cfg.data, seed=42, progress=False)
y = np.array([r.label for r in sp.val])
clf = SentimentClassifier.from_pretrained("/work/experiments/attn_seed42_xeon/runs/bilstm_attention__patience=9__seed42/bundle")
rnn = predict_logits(clf.model, clf.encoder.encode([r.text for r in sp.val]), 64, torch.device("cpu"))
print("rnn alone", ((rnn > 0) == y).mean(), flush=True)
enc = TextEncoder.fit((r.text for r in sp.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation)
xtr, xva = enc.encode([r.text for r in sp.train]), enc.encode([r.text for r in sp.val])
ytr = torch.tensor([r.label for r in sp.train], dtype=torch.float32)
torch.manual_seed(42)
bag = BagOfNgrams(524288, 2, 30.0); bias = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.Adam([*bag.parameters(), bias], lr=0.002)
rng = np.random.default_rng(42); steps = 3 * -(-len(xtr) // 128); k = 0
def lg(seqs):
    ids, L = pad_batch(seqs); return bag(torch.from_numpy(ids), torch.from_numpy(L)) + bias
for ep in range(3):
    order = rng.permutation(len(xtr))
    for i in range(0, len(xtr), 128):
        idx = order[i:i + 128]
        for g in opt.param_groups: g["lr"] = 0.002 * (1 - k / steps)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(lg([xtr[j] for j in idx]), ytr[idx])
        opt.zero_grad(); loss.backward(); opt.step(); k += 1
with torch.no_grad():
    b = np.concatenate([lg(xva[i:i + 512]).numpy() for i in range(0, len(xva), 512)])
print("bag alone", ((b > 0) == y).mean())
for w in [0.25, 0.5, 1, 2, 4]:
    print("rnn + w*bag, w =", w, (((rnn + w * b) > 0) == y).mean())
print("corr of logits", np.corrcoef(rnn, b)[0, 1], "both wrong", (((rnn > 0) != y) & ((b > 0) != y)).mean(), "rnn wrong", ((rnn > 0) != y).mean(), "bag wrong", ((b > 0) != y).mean())
