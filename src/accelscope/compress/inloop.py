"""The DCT codec in the loop: run a chain with its inter-layer feature maps compressed, and
price the compressed maps in an accelerator's DRAM traffic.

* :func:`run_with_codec` executes a chain with every inter-layer tensor (or a chosen subset)
  passed through encode/decode, image by image, and reports per tensor the compression
  ratio, bits per activation and error (SNR, max abs);
* :func:`accuracy_sweep` measures what each codec setting costs in top-1 accuracy on the
  digits CNN trained inside the project (``workload/digits.py``) and plots ratio against
  accuracy and SNR;
* :func:`apply_to_result` rescales the feature-map DRAM traffic of an evaluated network to
  the compressed sizes of its real tensors, adds the codec's energy and, where the codec is
  slower than the layer, its cycles.

"Inter-layer" tensors are the outputs of GConvs that another node reads; the network input
(the image) and its output (the logits) are not compressed, as in Shao et al. (arXiv
2110.06155), which compresses the feature maps stored between layers.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from accelscope.compress.dct import DctCodec, DctError
from accelscope.workload.gconv import Chain, GConv

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
        return parse_compress(spec)  # raises the codec-name error
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


def _size(codec: DctCodec, x: torch.Tensor) -> tuple[int, int]:
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

    from accelscope import lower, zoo
    from accelscope.workload.digits import accuracy, digits_data
    from accelscope.workload.execute import execute

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
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "dct_accuracy.csv", index=False)
        _plot(df, out / "dct_accuracy.png")
    return df


def _plot(df: Any, path: Path) -> Path:
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


# -- pricing the compressed maps on an accelerator ------------------------------------------
def _own_fmap_coding(spec: Any) -> str | None:
    """Why a spec already codes feature maps in DRAM (then DCT would code them twice)."""
    ey = getattr(spec, "eyeriss", None)
    if ey is not None and ey.rlc:
        return "eyeriss.rlc is true (run-length coded feature maps)"
    sc = getattr(spec, "scnn", None)
    if sc is not None and sc.dram_activation_format != "dense":
        return f"scnn.dram_activation_format is {sc.dram_activation_format!r}"
    return None


def apply_to_result(result: Any, workloads: Sequence[Any], spec: Any, codec: DctCodec,
                    hw: DctHardware | None = None) -> Any:
    """The NetworkResult with every inter-layer feature map's DRAM traffic at its DCT-coded
    size: each layer's DRAM input / output (and second-operand) bits are scaled by the coded
    size of the real tensor over its size at the operand width; the DRAM energy follows; the
    codec's energy (``hw.macs_per_block`` MACs per 8x8 block encoded or decoded, priced at
    the preset's MAC) is added as ``dct``; a layer whose blocks take longer through the
    encoders and decoders (``hw``, overlapped with compute) than its own cycles gets the
    difference as ``dct_codec`` stall cycles. Needs actual-mode workloads."""
    hw = hw or DctHardware()
    from accelscope.energy import get_table
    from accelscope.models.registry import get_model
    from accelscope.results import Access, NetworkResult

    if not get_model(spec.model).counts_accesses:
        # a measured baseline has no DRAM model to re-price: left as measured, and said so
        return dataclasses.replace(result, details={
            **result.details, "compress": f"not applied: {spec.name} is measured, it has no "
                                          "DRAM traffic to re-price"})
    why = _own_fmap_coding(spec)
    if why:
        raise DctError(f"--compress on {spec.name!r}: {why}; the DCT codec would code the "
                       "maps twice. Copy the preset with that option off (dense feature maps) "
                       "to compare the codecs")
    if any(w.input is None or w.output is None for w in workloads):
        raise DctError("--compress needs the real tensors: use --mode actual")
    table = get_table(spec.energy_table)
    bits = int(spec.compute.operand_bits)
    mac_pj = (table.lookup("mac_16b").value if "mac_16b" in table.entries
              else table.mac_pj(bits, acc_bits=spec.compute.accumulator_bits))
    cache: dict[tuple, tuple[float, int]] = {}

    def coded(t: torch.Tensor) -> tuple[float, int]:
        key = (t.data_ptr(), tuple(t.shape))
        if key not in cache:
            cb, nb = _size(codec, t)
            cache[key] = (cb / (t.numel() * bits), nb)
        return cache[key]

    area = hw.area_mm2(int(spec.technology_nm))
    layers = []
    for w, r in zip(workloads, result.layers, strict=True):
        g: GConv = w.gconv
        scale: dict[str, float] = {}
        dec = enc = 0
        if not w.input_is_network_input and w.input.dim() == 4:
            f, nb = coded(w.input)
            dec += nb
            if not _expanded_input(r):
                scale["input"] = f
        if g.operand_kind == "tensor" and w.operand is not None and w.operand.dim() == 4:
            scale["operand"], nb = coded(w.operand)
            dec += nb
        if w.output.dim() == 4:
            scale["output"], nb = coded(w.output)
            enc += nb
        blocks = dec + enc
        old_bits = sum(a.bits for a in r.accesses if a.level == "dram")
        acc = []
        for a in r.accesses:
            f = scale.get(a.tensor) if a.level == "dram" else None
            if f is None:
                acc.append(a)
                continue
            rb, wb = math.ceil(a.read_bits * f), math.ceil(a.write_bits * f)
            wbits = spec.dram.word_bits
            acc.append(Access(a.level, a.tensor, reads=math.ceil(rb / wbits) if rb else 0,
                              writes=math.ceil(wb / wbits) if wb else 0, read_bits=rb,
                              write_bits=wb))
        new_bits = sum(a.bits for a in acc if a.level == "dram")
        energy = dict(r.energy_pj)
        if "dram" in energy and old_bits:
            energy["dram"] = energy["dram"] * new_bits / old_bits
        energy["dct"] = blocks * hw.macs_per_block * mac_pj
        codec_cycles = hw.cycles(enc, dec)
        stalls = dict(r.stall_cycles)
        cycles = r.cycles
        if codec_cycles > cycles:
            stalls["dct_codec"] = codec_cycles - cycles
            cycles = codec_cycles
        details = {**r.details, "dct_ratio": {k: 1 / v for k, v in scale.items() if v},
                   "dct_blocks": blocks, "dct_codec_cycles": codec_cycles,
                   "dram_bits_uncompressed": old_bits}
        prov = {**r.provenance, "compress": (
            f"DCT feature-map codec {describe(codec)}: DRAM feature-map bits at the coded "
            f"sizes of the real tensors; {hw.macs_per_block} MACs per block at {mac_pj:.4g} "
            f"pJ; {hw.units} encoder/decoder pair(s) at {hw.blocks_per_cycle:g} blocks/cycle, "
            f"latency {hw.latency} cycles, overlapped with compute (docs/dct.md)"
            + ("; the DRAM input is the software IM2COL matrix, left uncoded"
               if _expanded_input(r) else ""))}
        layers.append(dataclasses.replace(r, accesses=tuple(acc), energy_pj=energy,
                                          stall_cycles=stalls, cycles=cycles,
                                          details=details, provenance=prov))
    return NetworkResult(network=result.network, model=result.model, arch=result.arch,
                         clock_hz=result.clock_hz, layers=tuple(layers),
                         provenance={**result.provenance, "compress": describe(codec),
                                     "compress.area": (
                                         f"codec area estimate {area:.4f} mm2 at "
                                         f"{spec.technology_nm} nm (SCNN Table 4 unit areas, "
                                         "scaled by node squared)")},
                         details={**result.details, "compress": describe(codec),
                                  "dct_area_mm2": area})


def _expanded_input(r: Any) -> bool:
    """A layer whose DRAM ``input`` traffic is a software IM2COL matrix (systolic with
    ``im2col: software``), not the feature map: coding the map or keeping it on chip does
    not change that traffic (the host expands the map into DRAM either way)."""
    return "software_im2col_elems" in r.details


# -- keeping (coded) feature maps on chip -----------------------------------------------------
@dataclass(frozen=True)
class Allocation:
    """Per-layer split of a unified on-chip SRAM and which feature maps stay on chip."""

    unified_bytes: int
    scratchpad_bytes: tuple[int, ...]  # per layer, at most unified_bytes
    fmap_buffer_bytes: tuple[int, ...]  # per layer: unified - scratchpad
    on_chip: frozenset[str]  # feature maps that never go to DRAM
    map_bytes: dict[str, int]  # the size each map takes in the buffer (coded or dense)
    scratchpad_source: tuple[str, ...] = ()  # per layer: how its scratchpad was sized
    scratchpad_need_bytes: tuple[int, ...] = ()  # per layer, before the unified-SRAM cap


def _weight_holding_bytes(spec: Any) -> int:
    return sum(m.size_bytes for m in spec.memory if "weight" in m.holds)


def allocate(workloads: Sequence[Any], spec: Any, map_bytes: dict[str, int], *,
             unified_bytes: int | None = None, results: Sequence[Any] | None = None
             ) -> Allocation:
    """Split a unified SRAM per layer into a scratchpad and a feature-map buffer and choose
    the feature maps that stay on chip, greedily in production order.

    Layer i's scratchpad is what the model's own tiling reports in
    ``results[i].details["scratchpad_bytes"]`` (systolic: one fold's operand tiles; SPOTS:
    a filter group's weights, the IM2COL double buffer and a pass's outputs; SCNN / DCNN:
    the accumulator regions and weight FIFOs of the PT-IS-CP tiling; Eyeriss: its psum
    banks, filter GLB and PE spads; each model's ``provenance["scratchpad"]`` says how). A model
    with no tiling (the ``ideal`` roofline, or ``results`` not given) takes the fallback
    rule: the layer's weights at the operand width, capped by the preset's weight-holding
    SRAM. A need above ``unified_bytes`` (default: all of the preset's on-chip SRAM) is
    capped at it: that layer keeps no map. The rest is its feature-map buffer. A map (a
    GConv output another layer reads, sized by ``map_bytes``) is live from its producer to
    its last reader; it stays on chip when, together with the maps already kept, it fits
    every buffer of its live range."""
    unified = int(unified_bytes if unified_bytes is not None else spec.on_chip_bytes)
    bits = int(spec.compute.operand_bits)
    cap = _weight_holding_bytes(spec)
    need, source = [], []
    for i, w in enumerate(workloads):
        r = results[i] if results is not None else None
        rep = r.details.get("scratchpad_bytes") if r is not None else None
        if rep is not None:
            need.append(int(rep))
            how = r.provenance.get("scratchpad", "its own mapping (details.scratchpad_bytes)")
            source.append(f"{r.model}: {how}")
        else:
            need.append(min(math.ceil(w.gconv.weight_elems * bits / 8), cap))
            who = f"the {r.model} model reports no tiling" if r is not None else \
                "no model results given"
            source.append(f"fallback ({who}): weights at {bits} b capped by the "
                          f"weight-holding SRAM {cap} B")
    scratch = tuple(min(n, unified) for n in need)
    fbuf = tuple(max(unified - s, 0) for s in scratch)
    produced = {w.gconv.output: i for i, w in enumerate(workloads)}
    last_read: dict[str, int] = {}
    for i, w in enumerate(workloads):
        ins = [w.gconv.input] + ([w.gconv.operand] if w.gconv.operand_kind == "tensor" else [])
        for t in ins:
            if t in produced:
                last_read[t] = i
    load = [0] * len(workloads)
    kept = set()
    for t in sorted(last_read, key=lambda name: produced[name]):
        size = map_bytes.get(t)
        if size is None:
            continue
        lo, hi = produced[t], last_read[t]
        if all(load[j] + size <= fbuf[j] for j in range(lo, hi + 1)):
            for j in range(lo, hi + 1):
                load[j] += size
            kept.add(t)
    return Allocation(unified, scratch, fbuf, frozenset(kept), dict(map_bytes),
                      tuple(source), tuple(need))


def keep_on_chip(result: Any, workloads: Sequence[Any], spec: Any, alloc: Allocation) -> Any:
    """The NetworkResult with the DRAM traffic of the maps ``alloc`` keeps on chip removed
    (the producer's write and every read of its consumers). DRAM energy follows the bits;
    cycles are not recomputed (a DRAM-bound layer would get faster): the provenance says so."""
    from accelscope.results import NetworkResult

    layers = []
    sources = alloc.scratchpad_source or ("",) * len(workloads)
    needs = alloc.scratchpad_need_bytes or alloc.scratchpad_bytes
    for w, r, src, need in zip(workloads, result.layers, sources, needs, strict=True):
        g = w.gconv
        gone = set()
        if g.output in alloc.on_chip:
            gone.add("output")
        if g.input in alloc.on_chip and not _expanded_input(r):
            gone.add("input")
        if g.operand_kind == "tensor" and g.operand in alloc.on_chip:
            gone.add("operand")
        old = sum(a.bits for a in r.accesses if a.level == "dram")
        acc = tuple(a for a in r.accesses if not (a.level == "dram" and a.tensor in gone))
        new = sum(a.bits for a in acc if a.level == "dram")
        energy = dict(r.energy_pj)
        if "dram" in energy and old:
            energy["dram"] *= new / old
        details = {**r.details, "fmaps_on_chip": sorted(gone),
                   "scratchpad_bytes": alloc.scratchpad_bytes[len(layers)],
                   "fmap_buffer_bytes": alloc.fmap_buffer_bytes[len(layers)],
                   "dram_bits_before_on_chip": old}
        i = len(layers)
        prov = {**r.provenance, "on_chip_fmaps": (
            f"unified SRAM {alloc.unified_bytes} B split per layer: scratchpad "
            f"{alloc.scratchpad_bytes[i]} B, the rest a feature-map buffer; maps kept on chip "
            "greedily over their live range; cycles not recomputed"),
            "on_chip_fmaps.scratchpad": src}
        if g.input in alloc.on_chip and _expanded_input(r):
            prov["on_chip_fmaps"] += ("; the input map stays on chip, but its software IM2COL "
                                      "matrix still goes through DRAM")
        warnings = r.warnings
        if need > alloc.unified_bytes:
            warnings = (*warnings, f"the layer's scratchpad need {need} B exceeds the unified "
                        f"SRAM {alloc.unified_bytes} B: capped, no map kept in this layer "
                        "(its tiling would have to be re-chosen)")
        layers.append(dataclasses.replace(r, accesses=acc, energy_pj=energy, details=details,
                                          provenance=prov, warnings=warnings))
    return NetworkResult(network=result.network, model=result.model, arch=result.arch,
                         clock_hz=result.clock_hz, layers=tuple(layers),
                         provenance={**result.provenance, "on_chip_fmaps":
                                     f"{len(alloc.on_chip)} maps kept on chip; scratchpad "
                                     f"per layer: {_source_summary(alloc)}"},
                         details={**result.details, "fmaps_on_chip": len(alloc.on_chip)})


def _source_summary(alloc: Allocation) -> str:
    """'N layers from <model>'s own tiling, M by the fallback rule'."""
    counts: dict[str, int] = {}
    for src in alloc.scratchpad_source:
        key = "the fallback rule" if src.startswith("fallback") else \
            f"{src.split(':', 1)[0]}'s own tiling"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} layers from {k}" for k, n in counts.items()) or "none"


def map_sizes(workloads: Sequence[Any], spec: Any, codec: DctCodec | None) -> dict[str, int]:
    """Bytes each inter-layer map takes in the buffer: coded (with ``codec``) or dense at the
    operand width."""
    bits = int(spec.compute.operand_bits)
    out = {}
    for w in workloads:
        t = w.output
        if t is None:
            raise DctError("keeping maps on chip needs the real tensors: use --mode actual")
        if codec is not None and t.dim() == 4:
            out[w.gconv.output] = math.ceil(_size(codec, t)[0] / 8)
        else:
            out[w.gconv.output] = math.ceil(t.numel() * bits / 8)
    return out
