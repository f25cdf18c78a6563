"""Exploratory probe (before model.bag_* existed): a linear bag of hashed n-grams over the best
preset's token ids, trained alone with the preset's optimiser (Adam 0.002 decayed linearly over 3
epochs, batch 128, seed 42) on its blocks validation split; prints validation accuracy per epoch.
Same hash as models.rnn.BagOfNgrams (words: id * p2 + 3 * p3; bigrams: NgramEmbedding's).

    D=../shared/data/imdb/aclImdb_v1_labeled.tar.gz .venv/bin/python benchmarks/probes/bag_cpu/bag_probe.py SPEC [SPEC ...]   # from the repository root; log: benchmarks/results/bag_cpu/probe.log

SPEC = buckets,order,scale,norm,presence[,dropout,weight_decay,nb]: order 2 = words + bigrams,
3 = + trigrams; norm sqrt | mean | none (divide the sum by sqrt(n), n, or nothing); presence 1 =
each distinct n-gram once, 0 = counts; dropout: share of n-grams dropped per training step;
weight_decay: AdamW's; nb: initialise with Naive Bayes log-count ratios times this (0 = zeros)."""
import os, sys, time
import numpy as np, torch
from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits
from sentiment_lab.text.tokenizer import TextEncoder

P = (1_000_003, 2_654_435_761, 40_503, 97_374_611)
def grams(ids, buckets, order):
    ids = ids.astype(np.int64)
    out = [np.remainder(ids * P[2] + P[3] * 3, buckets)]
    prev = np.concatenate([[0], ids[:-1]])
    h2 = ids * P[0] + prev * P[1]
    out.append(np.remainder(h2, buckets))
    if order >= 3:
        prev2 = np.concatenate([[0, 0], ids[:-2]])[:len(ids)]
        out.append(np.remainder(h2 + prev2 * P[2] + P[3], buckets))
    g = np.concatenate(out)
    return np.unique(g) if BIN else g

cfg = load_config("best")
cfg.data.path = os.environ["D"]
sp = load_splits(cfg.data, seed=42, progress=False)
t0 = time.time()
enc = TextEncoder.fit((r.text for r in sp.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation)
Xtr, Xva = enc.encode([r.text for r in sp.train]), enc.encode([r.text for r in sp.val])
ytr = torch.tensor([r.label for r in sp.train], dtype=torch.float32); yva = np.array([r.label for r in sp.val])
print("tokenized", time.time() - t0, len(Xtr), len(Xva), flush=True)
for spec in sys.argv[1:]:
    buckets, order, scale, norm, BIN, drop, wd, nb = (spec.split(",") + ["0", "0", "0"])[:8]
    buckets, order, scale, BIN, drop, wd, nb = int(buckets), int(order), float(scale), BIN == "1", float(drop), float(wd), float(nb)
    gtr = [torch.from_numpy(grams(x, buckets, order)) for x in Xtr]
    gva = [torch.from_numpy(grams(x, buckets, order)) for x in Xva]
    torch.manual_seed(42)
    bag = torch.nn.EmbeddingBag(buckets, 1, mode="sum"); torch.nn.init.zeros_(bag.weight)
    bias = torch.nn.Parameter(torch.zeros(1))
    if nb:
        cnt = np.zeros((2, buckets))
        for g, y in zip(gtr, ytr.numpy().astype(int)):
            cnt[y, g.numpy()] += 1
        r = np.log((cnt[1] + 1) / (cnt[1] + 1).sum()) - np.log((cnt[0] + 1) / (cnt[0] + 1).sum())
        with torch.no_grad(): bag.weight[:, 0] = torch.from_numpy(r).float() * nb / scale
    opt = torch.optim.AdamW([bag.weight, bias], lr=0.002, weight_decay=wd)
    def logit(gs):
        offs = torch.tensor([0] + [len(g) for g in gs[:-1]]).cumsum(0)
        n = torch.tensor([len(g) for g in gs], dtype=torch.float32)
        psw = None
        if bag.training and drop:
            psw = (torch.rand(sum(len(g) for g in gs)) >= drop).float() / (1 - drop)
        s = bag(torch.cat(gs), offs, per_sample_weights=psw).squeeze(1) * scale
        s = s / (n if norm == "mean" else n.sqrt() if norm == "sqrt" else 1)
        return s + bias
    rng = np.random.default_rng(42); steps = 3 * (len(gtr) // 128 + 1); k = 0
    t0 = time.time()
    for ep in range(3):
        bag.train(); perm = rng.permutation(len(gtr))
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            for g in opt.param_groups: g["lr"] = 0.002 * (1 - k / steps)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit([gtr[j] for j in idx]), ytr[idx])
            opt.zero_grad(); loss.backward(); opt.step(); k += 1
        bag.eval()
        with torch.no_grad():
            acc = ((logit(gva) > 0).numpy() == yva).mean()
        print(spec, "epoch", ep + 1, f"val {acc*100:.2f}", f"{time.time()-t0:.0f}s", flush=True)
