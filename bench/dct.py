"""Speed and ratios of the DCT feature-map codec on every inter-layer activation of a network.

Target (size computation): all 4-D intermediate tensors of torchvision ResNet-50 for one
224x224 image in under 1 s on one core. For each sparse format this prints the time of the
fast size path (``DctCodec.size_bits``), of the full ``compress`` (with reconstruction and
error measures) and of the real bitstream encoder, with the mean and overall compression
ratio and the SNR. The network input is not an intermediate and is skipped. Prints numbers;
asserts nothing.

The zoo's weights are seeded random and its example input is N(0, 1) noise, so the feature
maps have little spatial correlation: the worst case for a DCT codec. ``--smooth SIGMA``
low-passes the input (Gaussian, SIGMA pixels) to show how the ratios depend on that; neither
stands for trained weights on real images.

Usage: python bench/dct.py [MODEL] [--quality Q] [--snr DB] [--smooth SIGMA] [--decode]
"""

from __future__ import annotations

import os

# one core: fix the BLAS thread pools before numpy / torch load them
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import accelscope  # noqa: E402
from accelscope.compress.dct import FORMAT_NAMES, DctCodec  # noqa: E402


def smoothed(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` low-passed per channel by a Gaussian of ``sigma`` pixels, rescaled to unit std."""
    r = max(1, round(3 * sigma))
    g = torch.exp(-torch.arange(-r, r + 1, dtype=x.dtype) ** 2 / (2 * sigma**2))
    g = (g / g.sum()).reshape(1, 1, 1, -1).repeat(x.shape[1], 1, 1, 1)
    y = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), g, groups=x.shape[1])
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), g.transpose(2, 3), groups=x.shape[1])
    return y / y.std()


def activations(model: str, sigma: float = 0.0) -> dict[str, np.ndarray]:
    zm = accelscope.zoo.get(model)
    chain = accelscope.lower(zm)
    x = zm.example_input()
    if sigma > 0:
        x = smoothed(x, sigma)
    _, env = accelscope.execute(chain, x, keep_intermediates=True)
    return {k: v.detach().cpu().numpy() for k, v in env.items()
            if v.dim() == 4 and k not in chain.inputs}


def run(codec: DctCodec, acts: dict[str, np.ndarray], label: str, decode: bool) -> None:
    t = time.perf_counter()
    sizes = [codec.size_bits(a) for a in acts.values()]
    t_size = time.perf_counter() - t
    t = time.perf_counter()
    results = [codec.compress(a) for a in acts.values()]
    t_comp = time.perf_counter() - t
    t = time.perf_counter()
    streams = [codec.coder(r.level_bits).encode(r.levels) for r in results]
    t_enc = time.perf_counter() - t
    exact = all(s.nbits == r.compressed_bits == z
                for s, r, z in zip(streams, results, sizes, strict=True))
    t_dec = float("nan")
    if decode:
        t = time.perf_counter()
        ok = all(np.array_equal(codec.coder(r.level_bits).decode(s, r.n_blocks), r.levels)
                 for s, r in zip(streams, results, strict=True))
        t_dec = time.perf_counter() - t
        exact = exact and ok
    comp = sum(r.compressed_bits for r in results)
    orig = sum(r.original_bits for r in results)
    ratios = [r.ratio for r in results]
    snrs = [r.snr_db for r in results]
    print(f"{label:<16}{t_size:>8.3f}{t_comp:>9.3f}{t_enc:>8.3f}{t_dec:>8.2f}"
          f"{np.mean(ratios):>8.2f}{orig / comp:>8.2f}{min(ratios):>7.2f}"
          f"{comp / sum(r.numel for r in results):>7.2f}{np.mean(snrs):>8.1f}{min(snrs):>7.1f}"
          f"{'':>3}{'yes' if exact else 'NO'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default="resnet50")
    ap.add_argument("--quality", type=int, default=50)
    ap.add_argument("--snr", type=float, default=40.0,
                    help="target of the calibrated (table='snr') line, dB")
    ap.add_argument("--smooth", type=float, default=0.0, metavar="SIGMA",
                    help="low-pass the example input by a Gaussian of SIGMA pixels")
    ap.add_argument("--decode", action="store_true", help="also time the bitstream decoders")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    acts = activations(args.model, args.smooth)
    numel = sum(a.size for a in acts.values())
    padded = sum(a.size // (a.shape[2] * a.shape[3]) * (-(-a.shape[2] // 8) * 8)
                 * (-(-a.shape[3] // 8) * 8) for a in acts.values())
    inp = f"input smoothed by sigma={args.smooth:g} px" if args.smooth else "N(0, 1) input"
    print(f"{args.model} ({inp}): {len(acts)} 4-D intermediates, {numel / 1e6:.2f} M "
          f"activations (+{(padded - numel) / 1e6:.2f} M padding to 8x8), built in "
          f"{time.perf_counter() - t0:.1f} s; 16-bit originals")
    print(f"{'codec':<16}{'size s':>8}{'comp. s':>9}{'enc s':>8}{'dec s':>8}{'ratio':>8}"
          f"{'total':>8}{'min':>7}{'b/act':>7}{'SNR dB':>8}{'min':>7}  bits==size")
    for fmt in FORMAT_NAMES:
        run(DctCodec(fmt=fmt, quality=args.quality), acts, f"{fmt} q{args.quality}",
            args.decode)
    for q in (25, 75, 90):
        run(DctCodec(quality=q), acts, f"rle q{q}", args.decode)
    run(DctCodec(fmt="rle", wordlength=12, quality=args.quality), acts,
        f"rle q{args.quality} W12", args.decode)
    run(DctCodec(table="snr", target_snr_db=args.snr), acts, f"rle snr{args.snr:g}",
        args.decode)
    print("size s: DctCodec.size_bits over all tensors (the fast path); comp. s: compress "
          "(+ reconstruction, SNR); enc s: real bitstream encoder; ratio: mean over tensors, "
          "total: sum of original / sum of compressed bits")


if __name__ == "__main__":
    main()
