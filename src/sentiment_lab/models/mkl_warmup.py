"""Resolve MKL's vector-math kernel choice once, on one thread, before any parallel work.

Why: PyTorch's CPU build hands float unary ops on contiguous tensors (sqrt, exp, tanh, ...) to
MKL's vector math library (VML), which picks each function's kernel lazily, on its first call.
When that first call runs on several threads at once, one thread can run a low-accuracy kernel
for its whole share of that one call: errors of up to ~2^-12 relative instead of 1 ulp, and
the next call is fine (pytorch/pytorch#188792; MKL 2024.2, the version torch's wheels bundle).
Here it hit the first Adam step of a training run (its sqrt, split over 2 cores): the seed
preset's one-epoch loss came out 0.4497 instead of 0.4618 in 5 of 77 runs
(benchmarks/results/repeatability_cpu/). One call per function on one element resolves the
choice serially; every later result is bitwise what it would have been.
"""
from __future__ import annotations

import torch

# The unary ops ATen may route to VML (aten/src/ATen/cpu/vml.h), each with an input in its domain.
VML_OPS = ("sqrt", "exp", "expm1", "log", "log10", "log1p", "log2", "sin", "cos", "tan", "tanh",
           "asin", "acos", "atan", "erf", "erfc", "erfinv", "abs", "trunc", "lgamma")
_done = False


def warm_up_vml() -> None:
    """Call each VML-backed op once, single-threaded, in float32 and float64 (idempotent, <10 ms)."""
    global _done
    if _done or not torch.backends.mkl.is_available():
        return
    for dtype in (torch.float32, torch.float64):
        x = torch.full((1,), 0.5, dtype=dtype)
        for name in VML_OPS:
            getattr(torch, name)(x)
    _done = True
