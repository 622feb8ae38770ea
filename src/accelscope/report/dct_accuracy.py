"""The accuracy cost of the DCT feature-map codec: top-1 accuracy (digits CNN, trained in the
project) or top-1 agreement (any zoo model) against the compression ratio, and its plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from accelscope.compress.inloop import parse_compress, run_with_codec


def accuracy_sweep(settings: Sequence[str], *, out_dir: str | Path | None = None,
                   images: int | None = None, model: str = "digits-cnn") -> Any:
    """Top-1 accuracy of the digits CNN with its feature maps DCT-coded at each setting
    (``--compress`` strings, e.g. ``"dct:quality=50"``), next to the uncompressed network.
    Any other zoo ``model`` runs on ``images`` seeded N(0, 1) inputs (default 4) at its
    standard size: there are no labels, so only the top-1 agreement with the uncompressed
    network is measured (accuracy columns are NaN).

    Returns a DataFrame (setting, ratio, bits/activation, mean SNR, accuracy, accuracy drop
    in points, agreement with the uncompressed predictions); with ``out_dir`` also writes
    ``dct_accuracy.csv`` and ``dct_accuracy.png`` (accuracy / agreement and SNR against
    ratio)."""
    import pandas as pd

    from accelscope.workload import zoo
    from accelscope.workload.digits import accuracy, digits_data
    from accelscope.workload.execute import execute
    from accelscope.workload.lower import lower

    if model == "digits-cnn":
        x, y = digits_data("test")
        if images is not None:
            x, y = x[:images], y[:images]
    else:
        n = 4 if images is None else images
        shape = zoo.get(model).input_shape
        x = torch.randn((n, *shape[1:]), generator=torch.Generator().manual_seed(0))
        y = None
    zm = zoo.get(model, batch=len(x))
    chain = lower(zm)
    with torch.no_grad():
        base = execute(chain, x)
    base_acc = accuracy(base, y) if y is not None else math.nan
    rows = []
    for s in settings:
        codec = parse_compress(s)
        out, st = run_with_codec(chain, x, codec)
        ob = sum(t.original_bits for t in st)
        cb = sum(t.compressed_bits for t in st)
        acc = accuracy(out, y) if y is not None else math.nan
        rows.append({"model": model, "setting": s, "ratio": ob / cb, "bits_per_activation":
                     cb / sum(math.prod(t.shape) for t in st),
                     "mean_snr_db": float(np.mean([t.snr_db for t in st])),
                     "accuracy": acc, "accuracy_drop_pts": 100 * (base_acc - acc),
                     "agreement": float((out.argmax(1) == base.argmax(1)).float().mean()),
                     "baseline_accuracy": base_acc, "images": len(x)})
    df = pd.DataFrame(rows)
    if out_dir is not None:
        dest = Path(out_dir)
        dest.mkdir(parents=True, exist_ok=True)
        df.to_csv(dest / "dct_accuracy.csv", index=False)
        plot_accuracy(df, dest / "dct_accuracy.png")
    return df


def plot_accuracy(df: Any, path: Path) -> Path:
    from accelscope.report.plots import _plt

    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    d = df.sort_values("ratio")
    labelled = not d["accuracy"].isna().all()
    col = "accuracy" if labelled else "agreement"
    a1.plot(d["ratio"], 100 * d[col], marker="o")
    if labelled:
        a1.axhline(100 * d["baseline_accuracy"].iloc[0], color="grey", lw=0.8,
                   label="uncompressed")
        a1.legend(fontsize=8)
    a1.set_xlabel("feature-map compression ratio")
    a1.set_ylabel("top-1 accuracy (%)" if labelled else "top-1 agreement with uncompressed (%)")
    a1.set_title(f"{d['model'].iloc[0]}, {int(d['images'].iloc[0])} "
                 f"{'test images' if labelled else 'random inputs'}", fontsize=10)
    a2.plot(d["ratio"], d["mean_snr_db"], marker="o")
    a2.set_xlabel("feature-map compression ratio")
    a2.set_ylabel("mean SNR of the coded maps (dB)")
    for ax in (a1, a2):
        ax.grid(True, alpha=0.3)
    for _, r in d.iterrows():
        a1.annotate(r["setting"].replace("dct:", ""), (r["ratio"], 100 * r[col]),
                    fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
