"""fp32 vs bf16 for the seed LSTM on this CPU: is bf16 autocast worth turning on?

    python benchmarks/bench_precision.py --out benchmarks/results/precision_cpu.json

Times one training step (forward + backward) and one inference forward of the seed
model's LSTM (batch 128, 200 steps, E=128, H=64), median of 7, fp32 vs the whole LSTM
in bf16, interleaved. `train.precision=auto` keeps fp32 on CPU unless bf16 wins here.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_seed import machine_info, write_result  # noqa: E402


def timed(fn, n: int = 7) -> float:
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.manual_seed(0)
    x32 = torch.randn(128, 200, 128)
    res = {"machine": machine_info(), "shape": "batch 128 x 200 steps, LSTM(128 -> 64)", "ms": {}}
    lstms = {dt: torch.nn.LSTM(128, 64, batch_first=True).to(dt) for dt in (torch.float32, torch.bfloat16)}
    for rnd in range(2):  # interleave the two precisions
        for dt, lstm in lstms.items():
            x = x32.to(dt).requires_grad_()

            def fwd():
                with torch.inference_mode():
                    lstm(x.detach())

            def step():
                out, _ = lstm(x)
                out[:, -1].float().sum().backward()

            name = str(dt).replace("torch.", "")
            res["ms"].setdefault(f"{name}_forward", []).append(1e3 * timed(fwd))
            res["ms"].setdefault(f"{name}_train_step", []).append(1e3 * timed(step))
    med = {k: statistics.median(v) for k, v in res["ms"].items()}
    res["median_ms"] = med
    res["bf16_speedup_train"] = med["float32_train_step"] / med["bfloat16_train_step"]
    res["bf16_speedup_forward"] = med["float32_forward"] / med["bfloat16_forward"]
    print(write_result(res, args.out))


if __name__ == "__main__":
    main()
