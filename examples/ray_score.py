"""Distributed batch scoring of a Parquet dataset with Ray Data.

    pip install -e '.[distributed]'
    python examples/ray_score.py reviews.parquet scored/ [--bundle DIR] [--actors 4] [--batch-size 1024]
    python examples/ray_score.py s3://bucket/reviews/ s3://bucket/scored/ --address auto    # on a Ray cluster

Ray reads the Parquet file(s) in blocks and streams them through a pool of actors; each
actor loads the SentimentClassifier once (a callable class given to `map_batches`) and
scores pandas batches; the results are written as Parquet files into OUTPUT (a directory),
with the input's columns plus label, score and p_positive. Without --address a local Ray
starts on this machine; on a cluster, put input and output on storage every node can read.
backend "auto" uses the bundle's ONNX export when it has one (`sentiment-lab export`).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class Scorer:
    """One per actor: the model loads once, then scores batch after batch."""

    def __init__(self, bundle: str | None, backend: str, text_column: str) -> None:
        from sentiment_lab import SentimentClassifier

        self.clf = SentimentClassifier.from_pretrained(bundle, backend=backend)
        self.text_column = text_column

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        p = self.clf.predict_proba(batch[self.text_column].astype(str).tolist())[:, 1]
        batch["label"] = np.where(p >= 0.5, "positive", "negative")
        batch["score"] = np.maximum(p, 1 - p)
        batch["p_positive"] = p
        return batch


def score_parquet(input: str, output: str, bundle: str | None = None, backend: str = "auto", text_column: str = "text",
                  actors: int = 2, batch_size: int = 1024, **ray_init: Any) -> None:
    import ray

    if "://" not in input:  # a local file: name a missing column before starting anything
        import pyarrow.parquet as pq

        names = pq.read_schema(input).names if Path(input).is_file() else pq.ParquetDataset(input).schema.names
        if text_column not in names:
            raise SystemExit(f"error: {input}: no column {text_column!r}; columns are {', '.join(names)}")
    local = not ray.is_initialized() and not ray_init.get("address")
    if not ray.is_initialized():
        ray.init(**ray_init)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    if local:  # Parquet reader V2 lists footers with a pool of 32 actors (processes): a cluster's
        ctx.use_datasource_v2 = False  # tool; one machine reads a few files faster with plain read tasks
    ds = ray.data.read_parquet(input)
    scored = ds.map_batches(Scorer, fn_constructor_kwargs={"bundle": bundle, "backend": backend,
                                                           "text_column": text_column},
                            batch_size=batch_size, batch_format="pandas",
                            compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1)
    scored.write_parquet(output)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="Parquet file or directory (local path, s3://, gs://, ...)")
    ap.add_argument("output", help="output directory for the scored Parquet files")
    ap.add_argument("--bundle", help="model bundle [default: the shipped model]")
    ap.add_argument("--backend", default="auto", help="torch, numpy, onnx, onnx-int8 or auto")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--actors", type=int, default=2, help="scoring actors (model copies), one CPU each")
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--address", help="Ray cluster address ('auto', 'ray://host:10001'); default: a local Ray")
    args = ap.parse_args()
    init: dict[str, Any] = {"address": args.address} if args.address else {
        "include_dashboard": False, "num_cpus": args.actors + 2, "object_store_memory": 256 * 2**20}
    score_parquet(args.input, args.output, args.bundle, args.backend, args.text_column, args.actors, args.batch_size,
                  **init)


if __name__ == "__main__":
    main()
