"""The recurrence of the first layer's forward direction, step by step, with its gates.

nn.LSTM / nn.GRU run fused kernels that never expose their gates, so the gates are
recomputed here from the trained weights with PyTorch's own equations and gate order
(LSTM: i, f, g, o; GRU: r, z, n). The hidden states this recurrence produces are tested to
equal nn.LSTM / nn.GRU / nn.RNN outputs (tests/test_explain.py), which is what makes the
gates shown the real ones. Eval mode is assumed: input dropout and DropConnect on the
recurrent weights act only in training, so the plain weights are the ones that predict.

Only layer 0, forward direction: its input is the embedding of the text itself, and its
state at step t depends on tokens[:t+1] only, so a gate at a token can be read as "what the
network did when it read that word". Later layers and the backward direction see the
future of the text too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def layer0_forward(model: "torch.nn.Module", ids: "torch.Tensor") -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """(hidden (T, H), gates) of layer 0, forward direction, for one id sequence (T,).

    gates: LSTM {"input", "forget", "output": (T, H), "cell_norm": (T, 1) L2 norm of c_t};
    GRU {"reset", "update": (T, H)}; plain RNN None."""
    import torch

    rnn = model.rnn
    with torch.inference_mode():
        x = model.embed(ids[None])[0].float()  # (T, E); input dropout is the identity in eval mode
        w_ih, w_hh = rnn.weight_ih_l0.float(), rnn.weight_hh_l0.float()
        b_ih, b_hh = rnn.bias_ih_l0.float(), rnn.bias_hh_l0.float()
        gx = x @ w_ih.T + b_ih  # (T, G*H): every input projection at once
        H = w_hh.shape[1]
        h = x.new_zeros(H)
        c = x.new_zeros(H)
        hidden, rows = [], []
        for t in range(gx.shape[0]):
            gh = w_hh @ h + b_hh  # (G*H,)
            if model.cell == "lstm":
                g = gx[t] + gh
                i, f, o = torch.sigmoid(g[:H]), torch.sigmoid(g[H:2 * H]), torch.sigmoid(g[3 * H:])
                c = f * c + i * torch.tanh(g[2 * H:3 * H])
                h = o * torch.tanh(c)
                rows.append((i, f, o, c.norm().reshape(1)))
            elif model.cell == "gru":
                r = torch.sigmoid(gx[t, :H] + gh[:H])
                z = torch.sigmoid(gx[t, H:2 * H] + gh[H:2 * H])
                n = torch.tanh(gx[t, 2 * H:] + r * gh[2 * H:])
                h = (1 - z) * n + z * h
                rows.append((r, z))
            else:
                pre = gx[t] + gh
                h = torch.tanh(pre) if rnn.nonlinearity == "tanh" else torch.relu(pre)
            hidden.append(h)
        hidden_arr = torch.stack(hidden).cpu().numpy()
        if not rows:
            return hidden_arr, None
        names = ("input", "forget", "output", "cell_norm") if model.cell == "lstm" else ("reset", "update")
        return hidden_arr, {name: torch.stack([r[k] for r in rows]).cpu().numpy() for k, name in enumerate(names)}
