"""Why does the LM-pretrained BiLSTM learn the classifier slowly? Magnitudes before/after 1 LM epoch.

    .venv/bin/python benchmarks/probes/pretrain_cpu/pretrain_diag.py DATA [PENALTY]

PENALTY sets pretrain.ACTIVATION_PENALTY (0: as in the first run, before the penalty existed; 2: the default).
Prints to stdout (benchmarks/results/pretrain_cpu/diag.log holds both runs' output)."""
import sys
import numpy as np, torch
from sentiment_lab.config import load_config
from sentiment_lab.data import load_splits
from sentiment_lab.models import build_model
from sentiment_lab.text.tokenizer import TextEncoder
from sentiment_lab.text.token_cache import encode_with_lengths
from sentiment_lab.text.batching import collate
from sentiment_lab.training.pretrain import pretrain
import sentiment_lab.training.pretrain as P

P.ACTIVATION_PENALTY = float(sys.argv[2]) if len(sys.argv) > 2 else P.ACTIVATION_PENALTY
cfg = load_config("bilstm_attention", [f"data.path={sys.argv[1]}"])
sp = load_splits(cfg.data, seed=42, progress=False)
enc = TextEncoder.fit((r.text for r in sp.train), cfg.text.vocab_size, cfg.text.max_len, cfg.text.truncation, cfg.text.level, cfg.text.min_frequency, cfg.text.stopwords)
x, _ = encode_with_lengths(enc, [r.text for r in sp.train])
torch.manual_seed(42)
m = build_model(cfg.model, enc.vocab_size)
idx = np.arange(64)
def report(tag):
    m.eval()
    with torch.no_grad():
        ids, lens = collate(x, idx, torch.device("cpu"))
        out = m.outputs(ids, lens)
        mask = (torch.arange(ids.size(1))[None] < lens[:, None])
        o = out[mask]
        e = m.embedding.weight
        freq = e[2:2000].norm(dim=1).mean().item(); rare = e[10000:].norm(dim=1).mean().item()
        H = m.cfg.hidden_size
        wih, bih, bhh = m.rnn.weight_ih_l0, m.rnn.bias_ih_l0, m.rnn.bias_hh_l0
        print(f"{tag}: emb norm frequent {freq:.3f} rare {rare:.3f}; out |mean| {o.abs().mean():.3f} std {o.std():.3f} "
              f"frac|o|>0.9 {(o.abs() > 0.9).float().mean():.3f}; forget bias {(bih+bhh)[H:2*H].mean():.3f}; "
              f"W_ih norm {wih.norm():.2f} W_hh norm {m.rnn.weight_hh_l0.norm():.2f}; std of all outputs {o.view(-1).std():.3f}", flush=True)
report("init")
pretrain(m, x, 1, 0.002, 128, np.random.default_rng(0), torch.device("cpu"))
report("after 1 LM epoch")
