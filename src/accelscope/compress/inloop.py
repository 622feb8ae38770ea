"""The DCT codec in the loop: run a chain with its inter-layer feature maps compressed.

* :func:`run_with_codec` executes a chain with every inter-layer tensor (or a chosen subset)
  passed through encode/decode, image by image, and reports per tensor the compression
  ratio, bits per activation and error (SNR, max abs);
* :func:`coded_bits` sizes one tensor as the codec stores it.

The passes after evaluation price the coded maps on an accelerator
(``accelscope.passes.codec``) and keep maps on chip (``accelscope.passes.fmaps``); the
accuracy sweep and its plot are in ``accelscope.report.dct_accuracy``.

"Inter-layer" tensors are the outputs of GConvs that another node reads; the network input
(the image) and its output (the logits) are not compressed, as in Shao et al. (arXiv
2110.06155), which compresses the feature maps stored between layers.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from accelscope.compress.dct import DctCodec, DctError
from accelscope.workload.gconv import Chain

# Area of the codec's parts at 16 nm, from SCNN's Table 4 unit areas (docs/scnn.md): a 16-bit
# multiplier 0.008 mm2 / 16, SRAM 0.031 mm2 per 20 KB.
_MULT_MM2_16NM = 0.008 / 16
_SRAM_MM2_PER_BYTE_16NM = 0.031 / 20480


@dataclass(frozen=True)
class DctHardware:
    """The codec hardware (the paper's is not described in the available text; these are
    our assumptions, docs/dct.md). ``--compress`` takes them as ``hw_units``,
    ``hw_blocks_per_cycle``, ``hw_latency`` and ``hw_macs_per_block``."""

    units: int = 1
    """Encoder/decoder pairs working in parallel [count]."""
    blocks_per_cycle: float = 1 / 8
    """Blocks one encoder (or decoder) finishes per cycle: a row-column 8x8 DCT with 8
    multipliers per pass transforms one 8-point row per cycle in each of its two pipelined
    passes [blocks/cycle]."""
    latency: int = 16
    """Cycles from a block's first row in to its last coefficient out (two passes of 8 rows)
    [cycles]."""
    macs_per_block: int = 2 * 8 * 64
    """Multiply-adds per block: matrix-form row and column passes, 8 per coefficient [MACs]."""

    def __post_init__(self) -> None:
        for name, lo in (("units", 1), ("blocks_per_cycle", 1e-9), ("latency", 0),
                         ("macs_per_block", 1)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < lo:
                raise DctError(f"DctHardware: hw_{name} must be a number >= {lo}, got {v!r}")

    def cycles(self, encode_blocks: int, decode_blocks: int) -> int:
        """Codec time of a layer: encoders and decoders run side by side."""
        busiest = max(encode_blocks, decode_blocks)
        if not busiest:
            return 0
        return math.ceil(busiest / (self.blocks_per_cycle * self.units)) + self.latency

    def area_mm2(self, node_nm: int) -> float:
        """Estimate: per encoder and per decoder 16 multipliers (8 per pass) and a 64-word
        16-bit transpose buffer, SCNN's 16 nm unit areas scaled by (node / 16)^2."""
        per = 16 * _MULT_MM2_16NM + 128 * _SRAM_MM2_PER_BYTE_16NM
        return 2 * self.units * per * (node_nm / 16) ** 2


@dataclass(frozen=True)
class TensorStats:
    """One compressed feature map."""

    tensor: str
    producer: str
    shape: tuple[int, ...]
    original_bits: int
    compressed_bits: int
    blocks: int
    snr_db: float
    max_abs_error: float

    @property
    def ratio(self) -> float:
        return self.original_bits / self.compressed_bits if self.compressed_bits else math.inf

    @property
    def bits_per_activation(self) -> float:
        n = math.prod(self.shape)
        return self.compressed_bits / n if n else 0.0


def parse_compress(spec: str) -> DctCodec:
    """``dct`` or ``dct:quality=75,format=rle,table=jpeg,wordlength=12,...`` -> DctCodec.

    Keys are ``DctCodec``'s fields (``format`` is an alias of ``fmt``); values are parsed as
    int, float or text. Errors name the bad key and list the valid ones."""
    m = re.fullmatch(r"\s*dct\s*(?::(.*))?", spec or "")
    if not m:
        raise DctError(f"--compress {spec!r}: the only codec is 'dct'; write e.g. "
                       "--compress dct or --compress dct:quality=75,format=rle")
    return DctCodec(**_split(spec, m.group(1) or "")[0])


def parse_hardware(spec: str) -> DctHardware:
    """The ``hw_*`` keys of a ``--compress`` string as a ``DctHardware`` (defaults else)."""
    m = re.fullmatch(r"\s*dct\s*(?::(.*))?", spec or "")
    if not m:
        # parse_compress raises the codec-name error (same pattern): never returns here
        return typing.cast(DctHardware, parse_compress(spec))
    return DctHardware(**_split(spec, m.group(1) or "")[1])


def _split(spec: str, body: str) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.name for f in dataclasses.fields(DctCodec)}
    hw = {f"hw_{f.name}" for f in dataclasses.fields(DctHardware)}
    valid = ", ".join(["format", *sorted(names), *sorted(hw)])
    codec: dict[str, Any] = {}
    hard: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        if "=" not in part:
            raise DctError(f"--compress {spec!r}: {part!r} is not key=value; valid keys: "
                           f"{valid}")
        k, v = (x.strip() for x in part.split("=", 1))
        k = "fmt" if k == "format" else k
        if k in names:
            codec[k] = _value(v)
        elif k in hw:
            hard[k[3:]] = _value(v)
        else:
            raise DctError(f"--compress {spec!r}: unknown key {k!r}; valid keys: {valid}")
    return codec, hard


def describe(codec: DctCodec) -> str:
    """A short text of a codec: 'dct' and the parameters that differ from the defaults."""
    default = DctCodec()
    parts = [f"{'format' if f.name == 'fmt' else f.name}={getattr(codec, f.name)}"
             for f in dataclasses.fields(DctCodec)
             if getattr(codec, f.name) != getattr(default, f.name)]
    return "dct" + (":" + ",".join(parts) if parts else " (defaults: jpeg quality 50, rle)")


def _value(v: str) -> Any:
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return None if v.lower() == "none" else v


def inter_layer_tensors(chain: Chain) -> list[str]:
    """Tensors a GConv produces and another node reads (not the chain's outputs)."""
    out = []
    for g in chain.gconvs:
        info = chain.tensors[g.output]
        if info.consumers and g.output not in chain.outputs and len(info.shape) == 4:
            out.append(g.output)
    return out


def _code(codec: DctCodec, x: torch.Tensor) -> tuple[torch.Tensor, int, int, int, float,
                                                      float]:
    """Compress each image of x separately (the step unit adapts per image, as hardware that
    sees one image at a time would); returns (reconstruction, compressed bits, original bits,
    blocks, SNR dB over the whole tensor, max abs error)."""
    recs, cbits, obits, blocks = [], 0, 0, 0
    for i in range(x.shape[0]):
        r = codec.compress(x[i:i + 1].detach().cpu().numpy())
        recs.append(torch.as_tensor(np.asarray(r.reconstruction), dtype=x.dtype))
        cbits += r.compressed_bits
        obits += r.original_bits
        blocks += r.n_blocks
    rec = torch.cat(recs).reshape(x.shape)
    err = (rec - x).double()
    p_sig = float((x.double() ** 2).sum())
    p_err = float((err ** 2).sum())
    snr = math.inf if p_err == 0 else 10 * math.log10(max(p_sig, 1e-300) / p_err)
    return rec, cbits, obits, blocks, snr, float(err.abs().max()) if err.numel() else 0.0


def coded_bits(codec: DctCodec, x: torch.Tensor) -> tuple[int, int]:
    """(coded bits, 8x8 blocks) of x, image by image, by the codec's fast size path."""
    arr = x.detach().cpu().numpy()
    bits = sum(codec.size_bits(arr[i:i + 1]) for i in range(arr.shape[0]))
    planes = math.prod(arr.shape[:-2])
    blocks = planes * math.ceil(arr.shape[-2] / 8) * math.ceil(arr.shape[-1] / 8)
    return bits, blocks


def on_grid(x: torch.Tensor, grid: float) -> torch.Tensor:
    """``x`` rounded to multiples of ``grid``: a map as fixed-point hardware stores it (one
    LSB = ``grid``, e.g. 2 ** -8 for 8 fraction bits)."""
    return torch.round(x / grid) * grid


def lossless_codec(grid: float, **kw: Any) -> DctCodec:
    """A DCT setting that is lossless for maps on a fixed-point ``grid``, used with
    ``run_with_codec(..., grid=grid)``: a flat step of grid / 9 in absolute units on the
    float64 path. The DCT is orthonormal, so the error of one 8x8 block's reconstruction has
    the 2-norm of its 64 coefficient errors, at most 8 x step / 2 = 4/9 grid < grid / 2:
    rounding the decoded map back to the grid restores every value exactly. It costs bits
    (levels about 3 bits wider than the data): exact, not small."""
    return DctCodec(**{"table": "flat", "step": grid / 9, "step_unit": "absolute",
                       "dtype": "float64", **kw})


def run_with_codec(chain: Chain, inputs: torch.Tensor, codec: DctCodec, *,
                   tensors: Iterable[str] | None = None, grid: float | None = None
                   ) -> tuple[torch.Tensor, list[TensorStats]]:
    """Execute ``chain`` with the chosen inter-layer tensors (default: all of them) replaced
    by their DCT-coded reconstructions; returns (output, per-tensor statistics in chain
    order). With ``grid``, each chosen map is first rounded to that fixed-point grid (as a
    fixed-point accelerator stores it) and its reconstruction is rounded to the grid again:
    with ``lossless_codec(grid)`` the output then equals the executor's with the same maps
    on the grid and no codec, bit for bit."""
    from accelscope.workload.execute import execute

    allowed = inter_layer_tensors(chain)
    chosen = list(allowed) if tensors is None else list(tensors)
    bad = [t for t in chosen if t not in allowed]
    if bad:
        raise DctError(f"cannot compress {bad}: not inter-layer feature maps of "
                       f"{chain.name!r}; choose from {allowed[:8]}"
                       + (" ..." if len(allowed) > 8 else ""))
    producer = {g.output: g.name for g in chain.gconvs}
    want = set(chosen)
    stats: list[TensorStats] = []

    def transform(name: str, y: torch.Tensor) -> torch.Tensor:
        if name not in want:
            return y
        if grid is not None:
            y = on_grid(y, grid)
        rec, cb, ob, nb, snr, mx = _code(codec, y)
        if grid is not None:
            rec = on_grid(rec, grid)
            err = (rec - y).abs()
            snr = math.inf if not bool(err.any()) else snr
            mx = float(err.max()) if err.numel() else 0.0
        stats.append(TensorStats(name, producer[name], tuple(y.shape), ob, cb, nb, snr, mx))
        return rec

    out = execute(chain, inputs, transform=transform)
    return out, stats
