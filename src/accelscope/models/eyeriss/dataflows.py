"""The ISCA 2016 comparison dataflows on the Eyeriss platform: weight stationary (``ws``),
three output-stationary variants (``os_a`` = SOC-MOP, ``os_b`` = MOC-MOP, ``os_c`` =
MOC-SOP) and no local reuse (``nlr``). The row-stationary dataflow (``rs``) stays in
``eyeriss.py``; ``eyeriss.evaluate`` hands every other ``eyeriss.dataflow`` to
``evaluate_dataflow`` here.

Reference: Chen, Emer, Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow
for Convolutional Neural Networks", ISCA 2016, Sec. III (taxonomy) and VI (analysis
framework: same storage area, 256 PEs, energy = accesses x normalized cost per level).
``docs/eyeriss.md`` ("Other dataflows") says what is ours.

One GConv group is N images, M filters, C channels, E x F outputs, R x S filter, stride U.
Every dataflow shares:

* **the same outer (DRAM -> GLB) level**: the GLB holds a block of ``nb`` images x ``es``
  output rows (a strip, with its input halo) x ``mb`` filters x ``cb`` channels: the block's
  input rows, weights and partial sums, each in whole GLB banks. Loop order images, strips,
  filter blocks, channel blocks (innermost), so partial sums never leave the chip; a strip's
  input is read from DRAM once when all C channels fit (``cb = C``), else once per filter
  block; weights once per (image block, strip) unless all of them fit. Padding is generated
  on chip (as for RS).
* **the same counting rules** (the RS model's): ALU 1 per MAC; RF every read and write of a
  PE's register file (an operand the PE stores is read once per MAC, written once per
  delivery; a psum kept in the RF is read and written once per MAC); array every word the
  network delivers to a PE (a multicast to k PEs counts k), every PE-to-PE move and every
  word between the array and the GLB; GLB every read and write, including the fills from
  and drains to DRAM; DRAM every word. An operand a PE does not store is delivered over the
  array for each MAC that uses it.
* **the same search**: every legal (spatial tiling, GLB block) pair of the dataflow is
  priced with those rules and the cheapest (energy, then cycles) is kept. Spatial tilings
  that leave PEs idle although one more index of some dimension would fit are skipped:
  every count here is non-increasing in each spatial factor (tested against the full
  enumeration on small layers).

What each dataflow keeps where (per PE; ``spad`` words from the preset):

* ``ws``: the PE's RF holds ``k`` weights (k <= filter spad words; the paper's WS: 1). The
  array holds t filters x r channels x all R x S taps (t*r*R*S <= PEs) for as long as all
  positions of the block stream through; inputs enter once per filter pass and travel
  PE-to-PE (convolutional reuse, multicast across the t filters); partial sums flow
  through the r*R*S PEs of a filter and go to the GLB after each channel pass.
* ``os_*``: the PE's RF holds its output's partial sum for the whole reduction of a
  channel block; weights are broadcast to every PE of a pass; inputs are multicast across
  the t filters and, with input FIFO words in the RF, may be passed between neighbouring
  output PEs: ``U + U*R`` words allow full 2-D window reuse (ShiDianNao-style), ``U`` words
  reuse along a row, none reads every window from the GLB; which one is a searched choice
  (a forwarded input costs a FIFO write and read). ``os_a``: t = 1, a pr x pc block of one
  output plane; ``os_b``: t filters x pr x pc positions; ``os_c``: t filters, one position.
* ``nlr``: no RF. t filters x r reduction indices (channel x tap) x p output columns per
  cycle; inputs multicast across the t filters, weights across the p columns, partial sums
  reduced across the r PEs and accumulated in the GLB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast, overload

import numpy as np

from accelscope.energy import get_table
from accelscope.energy import provenance as energy_provenance
from accelscope.energy.area import ISCA16_STORAGE, STORAGE_65NM_UM2_PER_BYTE, isca16_storage_um2
from accelscope.models.common import spec_provenance, useful_macs
from accelscope.models.contract import LayerWorkload, UnsupportedLayerError
from accelscope.models.eyeriss.common import real_count, real_rows, shape, word_energies
from accelscope.models.eyeriss.spec import rf_words
from accelscope.results import Access, LayerResult

if TYPE_CHECKING:
    from accelscope.models.eyeriss.spec import EyerissSpec
    from accelscope.workload.gconv import GConv

# A GConv group in the paper's letters (``_layer``): int dimensions, plus ``rows_real``, an
# array over the strip heights
LayerDims = dict[str, Any]
# what ``search`` finds: (parameter names, spatial tiling, GLB-block index, counts, outer
# blocks, energy), the counts and blocks as scalars of the chosen block
Found = tuple[tuple[str, ...], tuple[int, ...], int, dict[str, Any], dict[str, Any], float]

DATAFLOWS = ("ws", "os_a", "os_b", "os_c", "nlr")
NAMES = {"rs": "RS", "ws": "WS", "os_a": "OS_A (SOC-MOP)", "os_b": "OS_B (MOC-MOP)",
         "os_c": "OS_C (MOC-SOP)", "nlr": "NLR"}

# -- the equal-area storage model ----------------------------------------------------------------
# The framework's 65 nm storage area per byte and its own (linear per-byte) interpolation live
# in energy.area, with the other area constants: small register files cost about 8x more area
# per byte than a >= 4 KB SRAM.
AREA_PER_BYTE_UM2 = STORAGE_65NM_UM2_PER_BYTE
AREA_SOURCE = (f"{ISCA16_STORAGE}; reference area = 256 PEs x 512 B RF + 128 KB buffer "
               "(Chen et al., ISCA 2016, Sec. VI-A)")


def storage_area_um2(size_bytes: float) -> float:
    """Area of one storage instance of ``size_bytes`` bytes (0 for none) [um^2], by the
    framework's rule (``energy.area.isca16_storage_um2``)."""
    return isca16_storage_um2(size_bytes)


def equal_area_glb_bytes(rf_bytes_per_pe: int, *, pes: int = 256, ref_rf_bytes: int = 512,
                         ref_glb_bytes: int = 131072, bank_bytes: int = 4096) -> int:
    """The global buffer a dataflow with ``rf_bytes_per_pe`` of RF per PE gets in the storage
    area of ``pes`` x ``ref_rf_bytes`` RF + a ``ref_glb_bytes`` buffer, in whole banks
    [bytes]."""
    area = pes * storage_area_um2(ref_rf_bytes) + storage_area_um2(ref_glb_bytes)
    left = area - pes * storage_area_um2(rf_bytes_per_pe)
    big, per = AREA_PER_BYTE_UM2[-1]
    if left < big * per:  # the per-byte table is not monotone below 32 B: invert it only
        raise ValueError(f"a {rf_bytes_per_pe} B RF per PE leaves less than a {big} B "
                         "buffer in the reference area")  # where it is linear
    return int(left / per // bank_bytes) * bank_bytes


# -- spec checks ---------------------------------------------------------------------------------
def _tuples(limits: tuple[int, ...], budget: int, maximal: bool = True
            ) -> Iterator[tuple[int, ...]]:
    """Every tuple x with 1 <= x[i] <= limits[i] and prod(x) <= budget; with ``maximal``
    only those where no x[i] can grow by one within its limit and the budget."""

    def rec(i: int, prod: int, acc: list[int]) -> Iterator[tuple[int, ...]]:
        if i == len(limits):
            yield tuple(acc)
            return
        for v in range(1, min(limits[i], budget // prod) + 1):
            yield from rec(i + 1, prod * v, acc + [v])

    for x in rec(0, 1, []):
        p = math.prod(x)
        if not maximal or all(v == lim or p // v * (v + 1) > budget
                              for v, lim in zip(x, limits, strict=True)):
            yield x


def _block_sizes(d: int) -> np.ndarray:
    """The smallest block size for every distinct number of blocks of a dimension of d."""
    return np.array(sorted({-(-d // k) for k in range(1, d + 1)}), dtype=np.int64)


@overload
def _cdiv(a: int, b: int) -> int: ...
@overload
def _cdiv(a: np.ndarray, b: int | np.ndarray) -> np.ndarray: ...
@overload
def _cdiv(a: int, b: np.ndarray) -> np.ndarray: ...
def _cdiv(a: Any, b: Any) -> Any:
    return -(-a // b)


def _layer(g: GConv) -> LayerDims:

    d: LayerDims = shape(g)
    d["rows_real"] = real_rows(g, d["span_r"])
    d["cols_real"] = int(real_count(0, d["W_in"], g.padding[1], g.W, g.input_dilation[1]))
    d["macs_group"] = d["N"] * d["M"] * d["C"] * d["E"] * d["F"] * d["R"] * d["S"]
    d["outs"] = d["N"] * d["M"] * d["E"] * d["F"]
    return d


def _outer(L: LayerDims, spec: EyerissSpec) -> dict[str, np.ndarray] | None:
    """Every GLB block (nb, es, mb, cb) that fits the GLB in whole banks, with its DRAM
    words (per group)."""
    ep = spec.eyeriss
    wb = spec.compute.operand_bits / 8
    bank_words = ep.glb_bank_bytes / wb
    banks = spec.memory[-1].size_bytes // ep.glb_bank_bytes
    N, M, C, E, F, R, S, Uh = (L[k] for k in ("N", "M", "C", "E", "F", "R", "S", "Uh"))
    grids = np.meshgrid(_block_sizes(N), _block_sizes(E), _block_sizes(M), _block_sizes(C),
                        indexing="ij")
    nb, es, mb, cb = (a.ravel() for a in grids)
    h = (es - 1) * Uh + L["span_r"]
    in_blk = nb * cb * h * L["W_in"]
    w_blk = mb * cb * R * S
    ps_blk = nb * mb * es * F
    used = (np.ceil(in_blk / bank_words) + np.ceil(w_blk / bank_words)
            + np.ceil(ps_blk / bank_words))
    ok = used <= banks
    if not ok.any():
        return None
    nb, es, mb, cb, h = (a[ok] for a in (nb, es, mb, cb, h))
    Bn, Be, Bm, Bc = _cdiv(N, nb), _cdiv(E, es), _cdiv(M, mb), _cdiv(C, cb)
    dram_in = N * C * L["rows_real"][es] * L["cols_real"] * np.where(cb == C, 1, Bm)
    dram_w = M * C * R * S * np.where((mb == M) & (cb == C), 1, Bn * Be)
    return {"nb": nb, "es": es, "mb": mb, "cb": cb, "h": h, "Bn": Bn, "Be": Be, "Bm": Bm,
            "Bc": Bc, "blocks": Bn * Be * Bm * Bc, "dram_in": dram_in.astype(np.float64),
            "dram_w": dram_w.astype(np.float64)}


REUSE = ("none", "row", "window")


def _reuse_levels(L: LayerDims, spec: EyerissSpec) -> list[int]:
    """The OS input-reuse levels (indices into ``REUSE``) the RF's input FIFO words allow:
    'window' (2-D, ShiDianNao-style) needs U + U*R words, 'row' U words, 'none' nothing.
    Forwarding is a choice, not a must: a forwarded input costs a FIFO write and read, which
    is dearer than one more GLB read when that read is multicast to many filters."""
    words = spec.eyeriss.ifmap_spad_words
    out = [0]
    if words >= L["Uw"]:
        out.append(1)
    if words >= L["Uw"] + L["Uh"] * L["R"]:
        out.append(2)
    return out


def _extent(d: int | np.ndarray, p: int, u: int, k: int) -> np.ndarray:
    """Input span of a dimension of d outputs cut into tiles of p (the last one ragged):
    each tile of x outputs reads (x-1)*min(u, k) + k inputs (stride u, window k; windows
    that do not overlap leave the inputs between them unread)."""
    step = min(u, k)
    full, rem = d // p, d % p
    return full * ((p - 1) * step + k) + np.where(rem > 0, (rem - 1) * step + k, 0)


def _inner_space(df: str, L: LayerDims, spec: EyerissSpec
                 ) -> tuple[tuple[str, ...], list[tuple[int, ...]]]:
    """The dataflow's spatial-tiling parameters and their values."""
    pes = math.prod(spec.compute.array)
    M, C, E, F, R, S = (L[k] for k in ("M", "C", "E", "F", "R", "S"))
    if df == "ws":
        if R * S > pes:
            return ("t", "r", "k"), []
        out: list[tuple[int, ...]] = []
        for k in range(1, min(spec.eyeriss.filter_spad_words, M) + 1):
            out += [(t, r, k) for t, r in _tuples((_cdiv(M, k), C), pes // (R * S))]
        return ("t", "r", "k"), out
    if df.startswith("os"):
        lv = _reuse_levels(L, spec)
        tiles_of: dict[str, list[tuple[int, ...]]] = {
            "os_a": [(1, a, b) for a, b in _tuples((E, F), pes)],
            "os_b": list(_tuples((M, E, F), pes)),
            "os_c": [(t, 1, 1) for (t,) in _tuples((M,), pes)]}
        tiles = tiles_of[df]
        return ("t", "pr", "pc", "reuse"), [(*x, v) for x in tiles for v in lv]
    return ("t", "r", "p"), list(_tuples((M, C * R * S, F), pes))


def _counts(df: str, x: tuple[int, ...], L: LayerDims, ob: dict[str, np.ndarray]
            ) -> dict[str, np.ndarray]:
    """Word counts (per group, arrays over the GLB blocks) of one spatial tiling."""
    N, M, C, E, F, R, S, Uh, Uw = (L[k] for k in ("N", "M", "C", "E", "F", "R", "S", "Uh",
                                                     "Uw"))
    macs, outs, crs = L["macs_group"], L["outs"], C * R * S
    nb, es, mb, cb, h = ob["nb"], ob["es"], ob["mb"], ob["cb"], ob["h"]
    blocks, Bn, Be, Bc = ob["blocks"], ob["Bn"], ob["Be"], ob["Bc"]
    z = np.zeros(len(nb))
    c: dict[str, np.ndarray] = {}
    if df == "ws":
        t, r, k = x
        mpass = _cdiv(mb, t * k)
        cpass = _cdiv(cb, r)
        loads = (Bn * Be).astype(np.float64) * M * C * R * S  # each weight once per block
        c["w_rf_r"], c["w_rf_w"], c["w_arr"], c["w_glb"] = z + macs, loads, loads, loads
        c["in_rf_r"] = c["in_rf_w"] = z
        c["in_arr"] = z + macs / k
        c["in_glb"] = (blocks * mpass * nb * cb * h * L["W_in"]).astype(np.float64)
        b = Bc * cpass
        hops = outs * (crs - b)
        c["ps_rf"] = z
        processing = blocks * mpass * cpass * nb * es * F * k
        active = np.minimum(t, _cdiv(mb, k)) * np.minimum(r, cb) * R * S
    elif df in ("os_a", "os_b", "os_c"):
        t, pr, pc, lv = x
        npos = nb * _cdiv(es, pr) * _cdiv(F, pc)
        passes = blocks * _cdiv(mb, t) * npos
        c["ps_rf"] = z + 2 * macs
        c["w_rf_r"] = c["w_rf_w"] = z
        c["w_arr"] = z + macs
        c["w_glb"] = (blocks * npos * mb * cb * R * S).astype(np.float64)
        # inputs read from the GLB per (filter pass, image, channel), multicast to the t
        # filters: every window separately, or each tile's span once along rows / both
        per = blocks * _cdiv(mb, t) * nb * cb
        alone = (per * es * F * R * S).astype(np.float64)
        cols = _extent(F, pc, Uw, S)
        if lv == 2:
            c["in_glb"] = (per * _extent(es, pr, Uh, R) * cols).astype(np.float64)
        elif lv == 1:
            c["in_glb"] = (per * es * R * cols).astype(np.float64)
        else:
            c["in_glb"] = alone
        c["in_arr"] = z + macs
        # the deliveries not served by a GLB read come from a neighbour through its FIFO
        fwd = macs * np.clip(1.0 - c["in_glb"] / alone, 0.0, 1.0)
        c["in_rf_r"] = c["in_rf_w"] = fwd
        b = Bc
        hops = z
        processing = passes * cb * R * S
        active = np.minimum(t, mb) * np.minimum(pr, es) * min(pc, F)
    else:  # nlr
        t, r, p = x
        rpass = _cdiv(cb * R * S, r)
        c["in_rf_r"] = c["in_rf_w"] = c["w_rf_r"] = c["w_rf_w"] = c["ps_rf"] = z
        c["in_arr"] = c["w_arr"] = z + macs
        c["in_glb"] = (blocks * _cdiv(mb, t) * nb * es * F * cb * R * S).astype(np.float64)
        c["w_glb"] = (blocks * _cdiv(F, p) * nb * es * mb * cb * R * S).astype(np.float64)
        b = Bc * rpass
        hops = outs * (crs - b)
        processing = blocks * _cdiv(mb, t) * rpass * nb * es * _cdiv(F, p)
        active = np.minimum(t, mb) * np.minimum(r, cb * R * S) * min(p, F)
    c["ps_glb_w"] = (outs * b).astype(np.float64)
    c["ps_glb_r"] = (outs * (b - 1)).astype(np.float64)
    c["ps_arr"] = hops + c["ps_glb_w"] + c["ps_glb_r"]
    c["processing"] = processing.astype(np.float64)
    c["active"] = active
    return c


def _energy(c: dict[str, np.ndarray], ob: dict[str, np.ndarray], L: LayerDims,
            en: dict[str, float]) -> np.ndarray:
    """Dynamic energy per group (table units) of counts ``c``: the search objective."""
    rf = c["in_rf_r"] + c["in_rf_w"] + c["w_rf_r"] + c["w_rf_w"] + c["ps_rf"]
    arr = c["in_arr"] + c["w_arr"] + c["ps_arr"]
    glb = (c["in_glb"] + c["w_glb"] + c["ps_glb_r"] + c["ps_glb_w"] + ob["dram_in"]
           + ob["dram_w"] + L["outs"])
    dram = ob["dram_in"] + ob["dram_w"] + L["outs"]
    e: np.ndarray = (L["macs_group"] * en["mac"] + rf * en["rf"] + arr * en["array"]
                     + glb * en["glb"] + dram * en["dram"])
    return e


def search(df: str, L: LayerDims, spec: EyerissSpec, en: dict[str, float], *,
           maximal: bool = True) -> Found | None:
    """The cheapest legal mapping of dataflow ``df``: (parameter names, spatial tiling,
    GLB-block index, counts, outer blocks, energy) or None."""
    ob = _outer(L, spec)
    if ob is None:
        return None
    names, space = _inner_space(df, L, spec)
    if not maximal:  # the full enumeration (tests: it never finds a cheaper mapping)
        pes = math.prod(spec.compute.array)
        M, C, E, F, R, S = (L[k] for k in ("M", "C", "E", "F", "R", "S"))
        spaces: dict[str, list[tuple[int, ...]]] = {
            "ws": [(t, r, k) for k in range(1, min(spec.eyeriss.filter_spad_words, M) + 1)
                   for t, r in _tuples((_cdiv(M, k), C), pes // (R * S), False)]
            if R * S <= pes else [],
            "os_a": [(1, a, b, v) for a, b in _tuples((E, F), pes, False)
                     for v in _reuse_levels(L, spec)],
            "os_b": [(*y, v) for y in _tuples((M, E, F), pes, False)
                     for v in _reuse_levels(L, spec)],
            "os_c": [(t, 1, 1, v) for (t,) in _tuples((M,), pes, False)
                     for v in _reuse_levels(L, spec)],
            "nlr": list(_tuples((M, C * R * S, F), pes, False))}
        space = spaces[df]
    static = spec.eyeriss.static_power_w * 1e12 / spec.clock_hz
    best: tuple[tuple[float, float, tuple[int, ...]], tuple[int, ...], int,
               dict[str, np.ndarray]] | None = None
    for x in space:
        c = _counts(df, x, L, ob)
        e = _energy(c, ob, L, en) + static * c["processing"]
        key = (e, c["processing"]) if spec.eyeriss.objective == "energy" else \
            (c["processing"], e)
        tie = np.flatnonzero(key[0] == key[0].min())  # sort the ties only: fast
        i = int(tie[np.lexsort(tuple(a[tie] for a in (ob["cb"], ob["mb"], ob["es"], ob["nb"],
                                                         key[1])))[0]])
        k = (float(key[0][i]), float(key[1][i]), x)
        if best is None or k < best[0]:
            best = (k, x, i, c)
    if best is None:
        return None
    (_, _, _), x, i, c = best
    return names, x, i, {n: (v[i] if isinstance(v, np.ndarray) else v) for n, v in c.items()}, \
        {n: v[i] for n, v in ob.items()}, float(best[0][0])


# -- evaluation ----------------------------------------------------------------------------------
def evaluate_dataflow(layer: LayerWorkload, spec: EyerissSpec) -> LayerResult:
    """Evaluate one GConv with the spec's (non-RS) dataflow: counts, energy by component
    (``compute`` = ALU, ``spad`` = RF, ``array``, ``glb`` = buffer, ``dram``), cycles, and the
    chosen mapping in ``details['mapping']``."""

    g = layer.gconv
    ep, cs = spec.eyeriss, spec.compute
    df = ep.dataflow
    why = None
    if g.operand_kind != "weight" or g.map_op != "mul" or g.reduce_op != "sum":
        why = "it is not a convolution with weights (multiply, sum)"
    elif g.dilation != (1, 1) or g.input_dilation != (1, 1):
        why = "dilated windows and input dilation are modelled for 'rs' only"
    if why:
        raise UnsupportedLayerError("eyeriss", g, f"dataflow {df!r}: {why}; the ISCA 2016 "
                                    "comparison dataflows run convolution and FC layers only "
                                    "(use eyeriss.dataflow: rs)")
    L = _layer(g)
    table = get_table(spec.energy_table)
    bits = int(cs.operand_bits)
    en = word_energies(table, bits)
    if spec.dram.energy_pj_per_bit is not None:
        en["dram"] = spec.dram.energy_pj_per_bit * bits
    found = search(df, L, spec, en)
    if found is None:
        raise UnsupportedLayerError("eyeriss", g, f"dataflow {df!r}: no mapping fits "
                                    f"{math.prod(cs.array)} PEs, a {rf_words(spec)}-word RF "
                                    f"and {spec.memory[-1].size_bytes} B of GLB "
                                    f"({L['R']} x {L['S']} filter)")
    names, x, _, c, ob, cost = found
    G = L["G"]
    macs = g.macs
    scale = float(G)

    def tot(v: float) -> float:
        return float(v) * scale

    # DRAM and timing
    d = spec.dram
    outs = L["outs"]
    dram_in, dram_w, dram_out = tot(ob["dram_in"]), tot(ob["dram_w"]), tot(outs)
    processing = int(tot(c["processing"]))
    glb_rd = tot(c["in_glb"] + c["w_glb"] + c["ps_glb_r"]) + dram_out
    glb_wr = tot(c["ps_glb_w"]) + dram_in + dram_w
    glb = spec.memory[-1]
    glb_cycles = math.ceil(max(glb_rd * bits / glb.read_bw_bits_per_cycle,
                               glb_wr * bits / glb.write_bw_bits_per_cycle))
    busy = max(processing, glb_cycles)
    fmap_cycles = math.ceil((dram_in + dram_out) * bits / d.bandwidth_bits_per_cycle)
    filt_cycles = math.ceil(dram_w * bits / d.bandwidth_bits_per_cycle)
    extra = max(filt_cycles - busy, 0) if ep.overlap_filter_dram else filt_cycles
    cycles = max(busy + fmap_cycles + extra, 1)
    stalls = {k: v for k, v in (("glb_bandwidth", busy - processing),
                                ("dram_fmap", fmap_cycles), ("dram_bandwidth", extra)) if v > 0}
    active = int(c["active"])
    idle = processing - math.ceil(macs / max(active, 1))
    if idle > 0:
        stalls["pass_overhead"] = idle

    # accesses (16-bit words)
    acc: list[Access] = []

    def add(level: str, tensor: str, rd: float, wr: float) -> None:
        rd, wr = int(rd + 0.5), int(wr + 0.5)
        if rd or wr:
            acc.append(Access(level, tensor, reads=rd, writes=wr, read_bits=rd * bits,
                              write_bits=wr * bits))

    if rf_words(spec):
        add("spad", "input", tot(c["in_rf_r"]), tot(c["in_rf_w"]))
        add("spad", "weight", tot(c["w_rf_r"]), tot(c["w_rf_w"]))
        add("spad", "output", tot(c["ps_rf"]) / 2, tot(c["ps_rf"]) / 2)
    add("glb", "input", tot(c["in_glb"]), dram_in)
    add("glb", "weight", tot(c["w_glb"]), dram_w)
    add("glb", "output", tot(c["ps_glb_r"]) + dram_out, tot(c["ps_glb_w"]))
    add("dram", "input", dram_in, 0)
    add("dram", "weight", dram_w, 0)
    add("dram", "output", 0, dram_out)
    rf = tot(c["in_rf_r"] + c["in_rf_w"] + c["w_rf_r"] + c["w_rf_w"] + c["ps_rf"])
    arr = {"input": tot(c["in_arr"]), "weight": tot(c["w_arr"]), "output": tot(c["ps_arr"])}
    energy = {
        "compute": macs * en["mac"],
        "spad": rf * en["rf"],
        "array": sum(arr.values()) * en["array"],
        "glb": (glb_rd + glb_wr) * en["glb"],
        "dram": (dram_in + dram_w + dram_out) * en["dram"],
    }
    seconds = cycles / spec.clock_hz
    if ep.static_power_w and not table.normalized:
        energy["static"] = ep.static_power_w * seconds * 1e12

    mapping: dict[str, int | float | str] = dict(zip(names, (int(v) for v in x), strict=True))
    mapping.update({"dataflow": df, "nb": int(ob["nb"]), "es": int(ob["es"]),
                    "mb": int(ob["mb"]), "cb": int(ob["cb"]), "active_pes": active,
                    "input_resident": bool(ob["cb"] == L["C"]),
                    "weights_resident": bool(ob["mb"] == L["M"] and ob["cb"] == L["C"]),
                    "cost": cost * scale})
    if df.startswith("os"):
        mapping["input_reuse"] = REUSE[cast(int, mapping.pop("reuse"))]
    prov = {**spec_provenance(spec), **energy_provenance(table)}
    prov["dataflow"] = (f"{NAMES[df]} (Chen, Emer, Sze, ISCA 2016, Sec. III/VI); spatial "
                        "tiling, GLB blocking and counting rules of "
                        "models/eyeriss/dataflows.py (docs/eyeriss.md, 'Other dataflows')")
    prov["mapping"] = (f"exhaustive search minimising {ep.objective} over every spatial tiling "
                       "that leaves no PE idle needlessly x every GLB block (images, strip, "
                       "filters, channels) that fits the GLB in whole banks")
    prov["energy.per_access"] = (f"{table.name}: MAC {en['mac']:.4g}, RF {en['rf']:.4g}, "
                                 f"array {en['array']:.4g}, GLB {en['glb']:.4g}, DRAM "
                                 f"{en['dram']:.4g} per {bits}-bit word")
    prov["storage_area"] = AREA_SOURCE
    prov["cycles"] = ("passes x per-pass compute, bounded below by the GLB bandwidth; "
                      "feature-map DRAM transfers not overlapped (as for rs): a bound, not "
                      "part of the ISCA 2016 comparison")
    if table.normalized:
        prov["energy.unit"] = "normalized table: energies are in units of one 16-bit MAC"
    warnings = [f"dataflow {df!r}: cycles are a bandwidth bound, not validated"]
    if table.normalized:
        warnings.append(f"energy table {table.name!r} is normalized: the energies are in "
                        "units of one 16-bit MAC, not pJ")
    details: dict[str, Any] = {
        "mapping": mapping, "active_pes": active, "processing_cycles": processing,
        "array_moves": arr, "dataflow": df,
        "power_w": (sum(energy.values()) * 1e-12 / seconds
                    if not table.normalized and seconds else None)}
    return LayerResult(
        layer=g.name, kind=g.kind, model="eyeriss", arch=spec.name,
        clock_hz=float(spec.clock_hz), peak_macs_per_cycle=int(cs.macs_per_cycle),
        cycles=cycles, macs=macs, macs_issued=macs, macs_useful=useful_macs(layer),
        accesses=tuple(acc), energy_pj=energy, stall_cycles=stalls, details=details,
        provenance=prov, warnings=tuple(warnings))
