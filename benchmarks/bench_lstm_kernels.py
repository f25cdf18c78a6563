"""Could a hand-written LSTM beat oneDNN's for the seed preset's training step on this CPU?

    python benchmarks/bench_lstm_kernels.py --out benchmarks/results/lstm_kernels_cpu.json

Why this exists: the seed preset's epoch is ~0.42x the Keras notebook's and issue 2 asks for
1/3; 85% of a training step is oneDNN's fused LSTM forward and backward
(profile_seed_step.py). The one arithmetic saving left at the notebook's sizes is to fold
the input projection into the embedding table: W_ih e_w + b is the same for every
occurrence of word w, so one (5,000 x 128) @ (128 x 256) product replaces one per token
(15,616 tokens per batch), and its backward is a scatter-add plus two table-sized products.
oneDNN's LSTM takes inputs, not precomputed gates, so that needs a recurrence written
here: one addmm and five pointwise operations per step forward, and a hand-written
backward through time (the weight gradients as single large products after the loop).

It is exact (checked below against nn.LSTM: outputs and every gradient). Measured 2026-12-01
(results/lstm_kernels_cpu.json): a training step (forward + backward) 57.9 ms vs oneDNN's 65.1 ms
(0.89x), a forward pass 24.0 ms vs 16.3 ms (1.47x): the saved arithmetic is mostly eaten by ~0.2 ms
of PyTorch operator calls per step on (128 x 64) tensors, where oneDNN does a step in ~0.1 ms.
11% of the LSTM's share of a step would take the epoch from ~14.3 s to ~13.4 s, still above the
11.5 s that 1/3 of Keras allows, and it would change the notebook's input dropout (one mask per
review) into one per vocabulary entry. So the seed preset keeps oneDNN for now.

Both variants run interleaved, median of --rounds x 15 calls, at the benchmark's shape:
batch 128 x 122 tokens (the mean IMDB test review after the seed preset's tokenizer).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info  # noqa: E402

B, T, E, H, V = 128, 122, 128, 64, 5000


class FoldedLSTM(torch.autograd.Function):
    """One LSTM layer (PyTorch's gate order i, f, g, o) over word ids, with the input
    projection computed once per vocabulary entry. ids (B, T) -> outputs (B, T, H)."""

    @staticmethod
    def forward(ctx, ids, emb, w_ih, w_hh, b_ih, b_hh):  # noqa: D102
        (B, T), H = ids.shape, w_hh.shape[1]  # any batch, not only the benchmark's
        table = torch.addmm(b_ih + b_hh, emb, w_ih.t())  # (V, 4H): the folded projection
        ids_t = ids.t().reshape(-1)
        gates = table.index_select(0, ids_t).view(T, B, 4 * H)
        w_hh_t = w_hh.t().contiguous()
        sig, tg, tc = torch.empty(T, B, 4 * H), torch.empty(T, B, H), torch.empty(T, B, H)
        c, h = torch.zeros(T + 1, B, H), torch.zeros(T + 1, B, H)
        for t in range(T):
            g = torch.addmm(gates[t], h[t], w_hh_t, out=gates[t])
            s = torch.sigmoid(g, out=sig[t])
            torch.tanh(g[:, 2 * H:3 * H], out=tg[t])
            torch.mul(s[:, H:2 * H], c[t], out=c[t + 1]).addcmul_(s[:, :H], tg[t])
            torch.tanh(c[t + 1], out=tc[t])
            torch.mul(s[:, 3 * H:], tc[t], out=h[t + 1])
        ctx.save_for_backward(ids_t, emb, w_ih, w_hh, sig, tg, c, tc, h)
        return h[1:].transpose(0, 1)

    @staticmethod
    def backward(ctx, dout):  # noqa: D102
        ids_t, emb, w_ih, w_hh, sig, tg, c, tc, h = ctx.saved_tensors
        T, B, H = tc.shape
        dout = dout.transpose(0, 1)
        i, f, o = sig[..., :H], sig[..., H:2 * H], sig[..., 3 * H:]
        # everything that does not depend on the recurrence, for all steps at once
        to_o = tc * o * (1 - o)
        to_c = o * (1 - tc * tc)
        to_ifg = torch.stack([tg * i * (1 - i), c[:-1] * f * (1 - f), i * (1 - tg * tg)], dim=2)
        dgates = torch.empty(T, B, 4, H)
        dh, dc = torch.zeros(B, H), torch.zeros(B, H)
        for t in range(T - 1, -1, -1):
            dh.add_(dout[t])
            torch.mul(dh, to_o[t], out=dgates[t, :, 3])
            if t < T - 1:
                dc.mul_(f[t + 1])
            dc.addcmul_(dh, to_c[t])
            torch.mul(dc.unsqueeze(1), to_ifg[t], out=dgates[t, :, :3])
            torch.mm(dgates[t].view(B, 4 * H), w_hh, out=dh)
        flat = dgates.view(T * B, 4 * H)
        dtable = torch.zeros(emb.shape[0], 4 * H).index_add_(0, ids_t, flat)
        db = dtable.sum(0)
        return (None, dtable @ w_ih, dtable.t() @ emb, flat.t() @ h[:-1].reshape(T * B, H), db, db)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.manual_seed(0)
    emb, lstm = nn.Embedding(V, E), nn.LSTM(E, H, batch_first=True)
    ids = torch.randint(2, V, (B, T))
    last = torch.randint(1, T + 1, (B,)) - 1  # read each review's "last real token", as pooling=last does
    rows = torch.arange(B)
    params = [emb.weight, *lstm.parameters()]

    def onednn() -> torch.Tensor:
        return lstm(emb(ids))[0]

    def folded() -> torch.Tensor:
        return FoldedLSTM.apply(ids, emb.weight, *lstm.parameters())

    ref, new = onednn(), folded()
    g_ref = torch.autograd.grad(ref[rows, last].sum(), params)
    g_new = torch.autograd.grad(new[rows, last].sum(), params)
    max_diff = {"outputs": (ref - new).abs().max().item()}
    max_diff |= {name: (a - b).abs().max().item() for name, a, b in
                 zip(["embedding", "weight_ih", "weight_hh", "bias_ih", "bias_hh"], g_ref, g_new)}

    def train_step(fn) -> None:
        fn()[rows, last].sum().backward()

    def forward(fn) -> None:
        with torch.no_grad():
            fn()

    times: dict[str, list[float]] = {k: [] for k in ("onednn_train", "folded_train", "onednn_forward", "folded_forward")}
    for _ in range(args.rounds):  # interleaved, so both see the same machine
        for key, fn in (("onednn", onednn), ("folded", folded)):
            for kind, run in (("train", train_step), ("forward", forward)):
                run(fn)  # warm
                for _ in range(15):
                    t0 = time.perf_counter()
                    run(fn)
                    times[f"{key}_{kind}"].append((time.perf_counter() - t0) * 1000)
    ms = {k: statistics.median(v) for k, v in times.items()}
    res = {"machine": machine_info(), "shape": f"batch {B} x {T} steps, Embedding({V}, {E}) -> LSTM({E} -> {H})",
           "median_ms": ms, "max_abs_diff_vs_nn_lstm": max_diff,
           "folded_over_onednn": {"train": ms["folded_train"] / ms["onednn_train"],
                                  "forward": ms["folded_forward"] / ms["onednn_forward"]},
           "command": "python benchmarks/bench_lstm_kernels.py --out benchmarks/results/lstm_kernels_cpu.json"}
    print(json.dumps({k: res[k] for k in ("median_ms", "max_abs_diff_vs_nn_lstm", "folded_over_onednn")}, indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
