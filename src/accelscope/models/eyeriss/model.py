"""Eyeriss: the row-stationary (RS) spatial accelerator, with zero gating and run-length
compressed feature maps in DRAM.

References: Chen, Krishna, Emer, Sze, "Eyeriss: An Energy-Efficient Reconfigurable
Accelerator for Deep Convolutional Neural Networks", IEEE JSSC 52(1), 2017 (ISSCC 2016);
Chen, Emer, Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for
Convolutional Neural Networks", ISCA 2016. What is known of them is in
``../shared/references/spots_scnn_eyeriss.md`` §3; what we assumed is in ``docs/eyeriss.md``.

The mapping of one GConv group (JSSC §IV-A), in the paper's letters: N images, M filters,
C channels, E x F output, R x S filter, U stride.

* A *logical PE set* is R x e PEs (filter rows x output rows of one strip of e <= E rows):
  filter rows are reused across a PE row, input rows along the diagonals, partial sums
  accumulate up the columns. A strip wider than the array is cut into ``segs`` segments
  stacked vertically (AlexNet CONV2: 5 x 27 -> 5 x 14 + 5 x 13); a set taller than the array
  does not fit.
* r x t sets (r channel groups, t filter groups) and, for grouped layers, gs groups sit on
  the array side by side; the PEs no set covers are clock-gated.
* Each PE interleaves p filters x q channels (spads: q*S ifmap, p*q*S filter, p psum words).
* A *processing pass* runs q*r channels of p*t filters on n images of one strip; the array
  is configured once per layer, so every pass has the same shape (partial passes leave PEs
  idle, as on the chip).
* The global buffer (GLB) holds the pass's input rows for n images and the partial sums of m
  filters (m a multiple of p*t) in whole banks; the filter part holds one pass's filters.

Per pass: compute ``n*p*q*S*F`` cycles per PE (one MAC per cycle), bounded below by the
input bus (``ifmap_bus_words``/cycle, multicast) and the psum buses, plus a ramp-up (loading
the pass's filters into the spads over the filter bus, the pipeline depth and the R-deep
vertical accumulation). The mapping (n, e, p, q, r, t, m) is chosen per layer by exhaustive
search of the legal space, minimising energy (or cycles), and reported.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from accelscope.energy import dram_accesses, get_table
from accelscope.energy import provenance as energy_provenance
from accelscope.energy.area import ISCA16_PE, ISCA16_PE_65NM_UM2, AreaModel, AreaReport
from accelscope.models.common import spec_provenance, useful_macs, with_area
from accelscope.models.contract import LayerWorkload, ModelInfo, UnsupportedLayerError
from accelscope.models.eyeriss.common import real_count, real_rows, shape, word_energies
from accelscope.models.eyeriss.dataflows import evaluate_dataflow
from accelscope.models.eyeriss.spec import EyerissSpec
from accelscope.results import Access, LayerResult
from accelscope.sparsity.formats import EyerissRLC
from accelscope.workload.execute import gconv_fast
from accelscope.workload.gconv import GConv


# -- mapping ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mapping:
    """A row-stationary mapping of one GConv group, and its counts (per group)."""

    n: int  # images per pass
    e: int  # output rows per strip (width of the logical PE set)
    p: int  # filters interleaved per PE
    q: int  # channels interleaved per PE
    r: int  # PE sets on different channels
    t: int  # PE sets on different filters
    gs: int  # PE sets on different groups (grouped / depthwise layers)
    m: int  # filters whose partial sums stay in the GLB
    segs: int  # vertical segments of one set
    strips: int
    passes: int
    active_pes: int
    pass_cycles: int
    compute_cycles_per_pass: int
    ramp_cycles: int
    processing_cycles: int  # all groups
    bound: str  # what limits a pass: compute, ifmap_bus or psum_bus
    glb_ifmap_banks: int
    glb_psum_banks: int
    ifmap_resident: bool  # the strip's whole input stays in the GLB across filter groups
    cost: float  # what the search minimised

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Counts:
    """Word counts of one mapping for the whole layer (all groups), before RLC."""

    glb_ifmap_reads: float
    glb_filter_reads: float
    glb_psum_reads: float
    glb_psum_writes: float
    spad_ifmap_writes: float
    spad_filter_writes: float
    array_moves: float  # NoC deliveries and PE-to-PE psum transfers
    dram_ifmap_words: float  # before compression
    dram_filter_words: float
    dram_ofmap_words: float


def _candidates(g: GConv, spec: EyerissSpec, weights: bool, operands: int,
                n_values: range | None = None) -> dict[str, np.ndarray] | None:
    """Every legal mapping as numpy arrays (one entry per candidate), with its counts;
    ``n_values`` restricts the images per pass (the search walks them one at a time so that
    memory stays bounded for large batches)."""
    d = shape(g)
    N, M, C, E, F, R, S, Uh, G, W_in = (d[k] for k in ("N", "M", "C", "E", "F", "R", "S",
                                                          "Uh", "G", "W_in"))
    # a dilated window: the PE slides over the whole span of its filter row, and a set's
    # R filter rows read input rows span_r apart in all
    span_r, span_s = d["span_r"], d["span_s"]
    ep, c = spec.eyeriss, spec.compute
    Ha, Wa = c.array
    word_bytes = c.operand_bits / 8
    bank_words = ep.glb_bank_bytes / word_bytes
    filt_words = ep.glb_filter_bytes / word_bytes
    banks = spec.fmap_banks
    rows: list[tuple[int, int, int, int, int]] = []
    full_fits = R * math.ceil(E / Wa) <= Ha
    strips_e = [E] if (ep.strip_mining == "when_needed" and full_fits) else range(1, E + 1)
    for e in strips_e:
        segs = math.ceil(e / Wa)
        ws = math.ceil(e / segs)
        hs = R * segs
        if hs > Ha:
            break  # wider strips need even more segments
        slots = (Ha // hs) * (Wa // ws)
        for gs in range(1, min(G, slots) + 1):
            for r in range(1, min(C, slots // gs) + 1):
                for t in range(1, min(M, slots // (gs * r)) + 1):
                    rows.append((e, segs, gs, r, t))
    if not rows:
        return None
    base = np.array(rows, dtype=np.int64)
    qmax = max(1, min(C, ep.ifmap_spad_words // span_s))
    pmax = max(1, min(M, ep.psum_spad_words))
    q = np.arange(1, qmax + 1)
    p = np.arange(1, pmax + 1)
    n = np.arange(1, N + 1) if n_values is None else np.asarray(list(n_values))
    # the full grid: base rows x q x p x n
    B, Q_, P_, N_ = np.meshgrid(np.arange(len(base)), q, p, n, indexing="ij")
    B, Q_, P_, N_ = B.ravel(), Q_.ravel(), P_.ravel(), N_.ravel()
    e, segs, gs, r, t = (base[B, i] for i in range(5))
    ok = N_ <= N
    ok &= Q_ * span_s <= ep.ifmap_spad_words
    ok &= P_ <= ep.psum_spad_words
    if weights:
        ok &= P_ * Q_ * S <= ep.filter_spad_words
        ok &= P_ * t * Q_ * r * R * S * gs <= filt_words
    ok &= Q_ * r <= C + Q_ - 1  # no set idle on every pass
    ok &= P_ * t <= M + P_ - 1
    e, segs, gs, r, t, q, p, n = (a[ok] for a in (e, segs, gs, r, t, Q_, P_, N_))
    if len(e) == 0:
        return None
    e_seg = -(-e // segs)
    rows_strip = segs * ((e_seg - 1) * Uh + span_r)  # input rows of a strip (segments overlap)
    ifmap_glb = n * q * r * gs * rows_strip * W_in * operands
    ifmap_banks = np.ceil(ifmap_glb / bank_words)
    # m: as many filters' psums in the GLB as the remaining banks hold (fewer input refetches)
    psum_per_filter = n * e * F * gs
    avail = banks - ifmap_banks
    kmax = np.floor(avail * bank_words / (psum_per_filter * p * t))
    k = np.minimum(kmax, -(-M // (p * t)))
    ok = k >= 1
    e, segs, gs, r, t, q, p, n, e_seg, rows_strip, ifmap_banks, k = (
        a[ok] for a in (e, segs, gs, r, t, q, p, n, e_seg, rows_strip, ifmap_banks, k))
    if len(e) == 0:
        return None
    m = k * p * t
    psum_banks = np.ceil(n * m * e * F * gs / bank_words)
    strips = -(-E // e)
    fgroups = -(-M // (p * t))
    cgroups = -(-C // (q * r))
    ngroups = -(-N // n)
    ggroups = -(-G // gs)
    passes = strips * fgroups * cgroups * ngroups * ggroups
    compute = n * p * q * S * F * c.cycles_per_op
    ifmap_pass = n * q * r * gs * rows_strip * W_in * operands
    filter_pass = (p * t * q * r * R * S * gs) if weights else np.zeros_like(p)
    psum_pass = n * p * t * e * F * gs
    ifmap_cyc = -(-ifmap_pass // ep.ifmap_bus_words)
    psum_cyc = -(-psum_pass // ep.psum_bus_words)
    # ramp-up: the pass's filters into the spads, the first window (q*S inputs) of every
    # input row the pass reads over the input bus, the pipeline and the R-deep psum column
    fill = -(-(q * r * gs * rows_strip * span_s * operands) // ep.ifmap_bus_words)
    ramp = -(-filter_pass // ep.filter_bus_words) + fill + c.pipeline_depth + R
    pass_cycles = np.maximum(np.maximum(compute, ifmap_cyc), psum_cyc) + ramp
    processing = passes * pass_cycles
    bound = np.where(compute >= np.maximum(ifmap_cyc, psum_cyc), 0,
                     np.where(ifmap_cyc >= psum_cyc, 1, 2))
    active = r * t * gs * R * e
    # GLB traffic (words), all passes
    glb_ifmap = passes * ifmap_pass
    glb_filter = passes * filter_pass
    glb_psum_w = passes * psum_pass
    glb_psum_r = passes * psum_pass * (cgroups - 1) / cgroups
    spad_ifmap_w = passes * active * n * q * W_in * operands
    spad_filter_w = passes * active * p * q * S if weights else np.zeros_like(passes)
    array = spad_ifmap_w + spad_filter_w + passes * psum_pass * (R - 1) + glb_psum_w + glb_psum_r
    # DRAM (words, before compression): per (image chunk, strip, group chunk, filter group
    # of m) the strip's input rows are read, unless all C channels of them stay resident
    rows_total = real_rows(g, span_r)[e]  # padding is generated on chip, not read from DRAM
    cols_real = int(real_count(0, W_in, g.padding[1], g.W, g.input_dilation[1]))
    whole_in = n * C * gs * rows_strip * W_in * operands
    resident = np.ceil(whole_in / bank_words) + psum_banks <= banks
    refetch = np.where(resident, 1, -(-M // m))
    dram_in = refetch * N * C * G * rows_total * cols_real * operands
    dram_filter = (ngroups * strips * M * C * R * S * G) if weights else np.zeros_like(n)
    dram_out = np.full_like(n, N * M * E * F * G)
    counts = {"e": e, "segs": segs, "gs": gs, "r": r, "t": t, "q": q, "p": p, "n": n, "m": m,
              "strips": strips, "passes": passes * 1, "compute": compute, "ramp": ramp,
              "pass_cycles": pass_cycles, "processing": processing, "bound": bound,
              "active": active, "ifmap_banks": ifmap_banks, "psum_banks": psum_banks,
              "resident": resident, "glb_ifmap": glb_ifmap, "glb_filter": glb_filter,
              "glb_psum_w": glb_psum_w, "glb_psum_r": glb_psum_r,
              "spad_ifmap_w": spad_ifmap_w, "spad_filter_w": spad_filter_w, "array": array,
              "dram_in": dram_in, "dram_filter": dram_filter, "dram_out": dram_out}
    return counts


def _search(g: GConv, spec: EyerissSpec, weights: bool, operands: int,
            energy: Callable[[dict[str, np.ndarray]], np.ndarray], static_w: float
            ) -> tuple[dict[str, Any], float] | None:
    """The best legal mapping: (its counts as scalars, its objective), or None. ``energy``
    maps candidate counts to dynamic energy; static power over the processing time is added;
    the objective is energy then cycles (or the reverse), then the smallest mapping indices
    (so the choice is deterministic)."""
    ep = spec.eyeriss
    best: tuple[tuple[float, float], dict[str, Any]] | None = None
    for nv in range(1, g.N + 1):
        cd = _candidates(g, spec, weights, operands, n_values=range(nv, nv + 1))
        if cd is None:
            continue
        cyc = cd["processing"].astype(np.float64)
        e = energy(cd) + static_w * cyc / spec.clock_hz * 1e12
        key = (e, cyc) if ep.objective == "energy" else (cyc, e)
        order = np.lexsort((cd["p"], cd["q"], cd["r"], cd["t"], cd["gs"], cd["e"], key[1],
                            key[0]))
        i = int(order[0])
        k = (float(key[0][i]), float(key[1][i]))
        if best is None or k < best[0]:
            best = (k, {name: v[i] for name, v in cd.items()})
    if best is None:
        return None
    return best[1], best[0][0]


def _candidate_energy(cand: dict[str, np.ndarray], macs: int, gate: float, rf_per_mac: float,
                      in_ratio: float, out_ratio: float, en: dict[str, float]) -> np.ndarray:
    """Dynamic energy of every candidate mapping (table units): the search objective."""
    e: np.ndarray = (macs * (1.0 - gate) * en["mac"] + macs * rf_per_mac * en["rf"]
                     + (cand["spad_ifmap_w"] + cand["spad_filter_w"]) * en["rf"]
                     + cand["array"] * en["array"]
                     + (cand["glb_ifmap"] + cand["glb_filter"] + cand["glb_psum_r"]
                        + cand["glb_psum_w"] + cand["dram_in"] + cand["dram_filter"]
                        + cand["dram_out"]) * en["glb"]
                     + (cand["dram_in"] * in_ratio + cand["dram_filter"] + cand["dram_out"]
                        * out_ratio) * en["dram"])
    return e


def evaluate(layer: LayerWorkload, spec: EyerissSpec) -> LayerResult:
    return with_area(_evaluate(layer, spec), area, spec)


def _evaluate(layer: LayerWorkload, spec: EyerissSpec) -> LayerResult:
    g = layer.gconv
    if not isinstance(spec, EyerissSpec):
        raise UnsupportedLayerError("eyeriss", g, "the spec is not an Eyeriss spec "
                                    "(model: eyeriss)")
    if spec.eyeriss.dataflow != "rs":  # the ISCA 2016 comparison dataflows
        return evaluate_dataflow(layer, spec)
    ep, c = spec.eyeriss, spec.compute
    Ha, Wa = c.array
    weights = g.operand_kind == "weight"
    operands = 2 if g.operand_kind == "tensor" else 1
    # filter rows beyond the array height (columns beyond the ifmap spad) are processed as
    # extra channel passes of at most Ha rows (ifmap_spad_words columns) each, partial sums
    # accumulating in the GLB between them
    rchunks = math.ceil(g.R / Ha)
    schunks = 1  # fewest column chunks whose dilated span fits the ifmap spad
    while (math.ceil(g.S / schunks) - 1) * g.dilation[1] + 1 > ep.ifmap_spad_words \
            and schunks < g.S:
        schunks += 1
    chunks = rchunks * schunks
    gm = g if chunks == 1 else dataclasses.replace(
        g, R=math.ceil(g.R / rchunks), S=math.ceil(g.S / schunks), C=g.C * chunks)
    table = get_table(spec.energy_table)
    bits = int(c.operand_bits)
    en = word_energies(table, bits)
    if spec.dram.energy_pj_per_bit is not None:
        en["dram"] = spec.dram.energy_pj_per_bit * bits
    # data-dependent factors: zero inputs (gating) and RLC sizes
    gated_frac, in_ratio, out_ratio, how = _data_factors(layer, spec, bits)
    macs = g.macs
    rf_per_mac = 4.0 - (gated_frac if (ep.zero_gating and weights) else 0.0)
    gate = gated_frac if ep.zero_gating else 0.0
    static = ep.static_power_w if not table.normalized else 0.0
    cand = _search(gm, spec, weights, operands, lambda cd: _candidate_energy(
        cd, macs, gate, rf_per_mac, in_ratio, out_ratio, en), static)
    if cand is None:
        raise UnsupportedLayerError("eyeriss", g, f"no row-stationary mapping fits: a "
                                    f"{gm.R} x 1 PE set, {ep.ifmap_spad_words}/"
                                    f"{ep.filter_spad_words}/{ep.psum_spad_words}-word spads "
                                    f"and {spec.fmap_banks} GLB banks")
    prov = {**spec_provenance(spec), **energy_provenance(table)}
    if table.normalized:
        prov["energy.unit"] = ("normalized table: energies are in units of one 16-bit MAC, "
                               "not pJ")
    prov["sparsity"] = how
    pick, cost = cand
    mapping = Mapping(
        n=int(pick["n"]), e=int(pick["e"]), p=int(pick["p"]), q=int(pick["q"]),
        r=int(pick["r"]), t=int(pick["t"]), gs=int(pick["gs"]), m=int(pick["m"]),
        segs=int(pick["segs"]), strips=int(pick["strips"]), passes=int(pick["passes"]),
        active_pes=int(pick["active"]), pass_cycles=int(pick["pass_cycles"]),
        compute_cycles_per_pass=int(pick["compute"]), ramp_cycles=int(pick["ramp"]),
        processing_cycles=int(pick["processing"]),
        bound=("compute", "ifmap_bus", "psum_bus")[int(pick["bound"])],
        glb_ifmap_banks=int(pick["ifmap_banks"]), glb_psum_banks=int(pick["psum_banks"]),
        ifmap_resident=bool(pick["resident"]), cost=float(cost))
    processing = mapping.processing_cycles

    # DRAM: words -> bits, RLC on feature maps
    d = spec.dram
    in_bits = math.ceil(float(pick["dram_in"]) * bits * in_ratio)
    w_bits = int(pick["dram_filter"]) * bits
    out_bits = math.ceil(float(pick["dram_out"]) * bits * out_ratio)
    fmap_cycles = math.ceil((in_bits + out_bits) / d.bandwidth_bits_per_cycle)
    filter_cycles = math.ceil(w_bits / d.bandwidth_bits_per_cycle)
    stalls: dict[str, int] = {}
    if fmap_cycles:
        stalls["dram_fmap"] = fmap_cycles
    if ep.overlap_filter_dram:
        extra = max(filter_cycles - processing, 0)
    else:
        extra = filter_cycles
    if extra:
        stalls["dram_bandwidth"] = extra
    ideal = math.ceil(macs / (Ha * Wa))
    cycles = max(processing + fmap_cycles + extra, 1)
    pe_idle = processing - math.ceil(macs / max(mapping.active_pes, 1))
    if pe_idle > 0:
        stalls["pass_overhead"] = pe_idle  # ramp-up, buses, partial passes
    seconds = cycles / spec.clock_hz

    # accesses
    glb, spad = spec.memory[1].name, spec.memory[0].name
    acc: list[Access] = []

    def add(level: str, tensor: str, rd: float, wr: float, wbits: int = bits) -> None:
        rd, wr = int(float(rd) + 0.5), int(float(wr) + 0.5)
        if rd or wr:
            acc.append(Access(level, tensor, reads=rd, writes=wr, read_bits=rd * wbits,
                              write_bits=wr * wbits))

    in_name = "input"
    add(spad, in_name, macs, pick["spad_ifmap_w"])
    if weights:
        add(spad, "weight", macs * (1 - (gated_frac if ep.zero_gating else 0.0)),
            pick["spad_filter_w"])
    add(spad, "output", macs, macs)
    add(glb, in_name, pick["glb_ifmap"], pick["dram_in"])
    if weights:
        add(glb, "weight", pick["glb_filter"], pick["dram_filter"])
    add(glb, "output", pick["glb_psum_r"] + pick["dram_out"], pick["glb_psum_w"])
    acc.extend(dram_accesses({in_name: in_bits, **({"weight": w_bits} if weights else {})},
                             {"output": out_bits}, d.word_bits))

    # energy by component (table units)
    energy = {
        "compute": macs * (1 - gate) * en["mac"],
        "spad": (macs * rf_per_mac + pick["spad_ifmap_w"] + pick["spad_filter_w"]) * en["rf"],
        "array": float(pick["array"]) * en["array"],
        "glb": float(pick["glb_ifmap"] + pick["glb_filter"] + pick["glb_psum_r"]
                     + pick["glb_psum_w"] + pick["dram_in"] + pick["dram_filter"]
                     + pick["dram_out"]) * en["glb"],
        "dram": (in_bits + w_bits + out_bits) / bits * en["dram"],
    }
    if ep.static_power_w and not table.normalized:
        energy["static"] = ep.static_power_w * seconds * 1e12
        prov["energy.static"] = f"{ep.static_power_w * 1e3:g} mW x time ({ep.static_power_source})"
    prov["energy.per_access"] = (f"{table.name}: MAC {en['mac']:.4g}, spad {en['rf']:.4g}, "
                                 f"array {en['array']:.4g}, GLB {en['glb']:.4g}, DRAM "
                                 f"{en['dram']:.4g} per {bits}-bit word; 4 spad accesses per "
                                 "MAC (ifmap, filter, psum read + write)")
    prov["mapping"] = ("exhaustive row-stationary search minimising "
                       f"{ep.objective} (static energy over the processing time included), "
                       f"strip mining {ep.strip_mining}; static per-layer configuration "
                       "(partial passes leave PEs idle); ramp-up per pass = filter load + "
                       "first input window of every row + pipeline + R")
    prov["memory"] = ("DRAM: input feature map per (image chunk, strip, filter group of m) "
                      "unless resident, filters per (image chunk, strip), output once; "
                      + ("feature maps RLC-coded except the network input; " if ep.rlc else "")
                      + "feature-map transfers do not overlap processing"
                      + ("; filter transfers overlap it" if ep.overlap_filter_dram else ""))
    useful = useful_macs(layer)
    gated = int(macs * gate + 0.5)
    details: dict[str, Any] = {
        "mapping": mapping.as_dict(), "active_pes": mapping.active_pes,
        # what the mapping needs besides feature maps: its psum banks, the filter part
        # of the GLB and the PEs' private spads, which never hold a stored map (for a
        # unified-SRAM allocation, passes/fmaps.py)
        "scratchpad_bytes": mapping.glb_psum_banks * ep.glb_bank_bytes
        + ep.glb_filter_bytes + spec.memory[0].size_bytes,
        "processing_cycles": processing, "dram_fmap_cycles": fmap_cycles,
        "ideal_cycles_all_pes": ideal, "filter_row_chunks": chunks,
        "input_zero_fraction": gated_frac, "rlc_ratio_input": in_ratio,
        "rlc_ratio_output": out_ratio,
        "dram_fmap_dense_bits": int(pick["dram_in"] + pick["dram_out"]) * bits,
        "power_w": (sum(energy.values()) * 1e-12 / seconds
                    if not table.normalized and seconds else None)}
    warnings = []
    if table.normalized:
        warnings.append(f"energy table {table.name!r} is normalized: the energies are in "
                        "units of one 16-bit MAC, not pJ")
    if chunks > 1:
        warnings.append(f"filter {g.R}x{g.S} exceeds the array height ({Ha}) or the ifmap "
                        f"spad ({ep.ifmap_spad_words}): run as {chunks} row/column chunks "
                        "accumulated in the GLB")
    return LayerResult(
        layer=g.name, kind=g.kind, model="eyeriss", arch=spec.name,
        clock_hz=float(spec.clock_hz), peak_macs_per_cycle=int(c.macs_per_cycle),
        cycles=cycles, macs=macs, macs_issued=macs, macs_useful=min(useful, macs - gated)
        if ep.zero_gating else useful, macs_gated=gated, accesses=tuple(acc),
        energy_pj=energy, stall_cycles=stalls,
        scratchpad_bytes=details.pop("scratchpad_bytes"), details=details, provenance=prov,
        warnings=tuple(warnings))


def _data_factors(layer: LayerWorkload, spec: EyerissSpec, bits: int
                  ) -> tuple[float, float, float, str]:
    """(fraction of MACs whose input is zero, RLC size / dense size of the input and of the
    output in DRAM, how they were obtained)."""
    g = layer.gconv
    ep = spec.eyeriss
    rlc = EyerissRLC(value_bits=bits)
    if layer.input is not None:
        x = layer.input
        if g.map_op == "mul" and g.macs:
            # count non-zero inputs per MAC: the padding the GLB generates (zeros, a
            # constant, reflected or replicated edges) is non-zero where its value is
            plain = dataclasses.replace(g, post_ops=(), mean_pad=(0, 0, 0, 0),
                                        pad_value=1.0 if g.pad_value else 0.0,
                                        reduce_op="sum", operand_kind="weight",
                                        map_op="mul")
            ones = torch.ones(g.G * g.K, g.C, g.R, g.S)
            nz = gconv_fast(plain, (x != 0).to(torch.float32), ones)
            gated = 1.0 - float(nz.to(torch.float64).sum()) / g.macs
        else:
            gated = 0.0
        how = "actual data: zero inputs counted per MAC, RLC sizes of the real tensors"
    else:
        gated = 1.0 - layer.input_density if g.map_op == "mul" else 0.0
        how = (f"statistical: input density {layer.input_density:.3g}, output density "
               f"{layer.output_density:.3g}, RLC expected sizes")
    gated = min(max(gated, 0.0), 1.0)
    in_ratio = out_ratio = 1.0
    if ep.rlc:
        if not layer.input_is_network_input:
            in_ratio = _rlc_ratio(rlc, layer.input, g.input_elems, layer.input_density, g.N)
        out_ratio = _rlc_ratio(rlc, layer.output, g.output_elems, layer.output_density, g.N)
    return gated, in_ratio, out_ratio, how


def _rlc_ratio(rlc: EyerissRLC, t: torch.Tensor | None, elems: int, density: float,
               n: int) -> float:
    """RLC bits / dense bits of a feature map, coded per image in (C, H, W) order."""
    if elems == 0:
        return 1.0
    if t is not None:
        bits = float(np.sum(rlc.row_sizes_bits(t.reshape(n, -1).detach().cpu().numpy())))
    else:
        bits = float(rlc.expected_bits((n, elems // max(n, 1)), density))
    return bits / (elems * rlc.value_bits)


def fmap_coding(spec: EyerissSpec) -> str | None:
    """Eyeriss run-length codes its feature maps in DRAM when ``eyeriss.rlc`` is on."""
    return "eyeriss.rlc is true (run-length coded feature maps)" if spec.eyeriss.rlc else None


def area(spec: EyerissSpec) -> AreaReport:
    """The PE array (MAC, the rest of the PE's logic, one storage instance per spad) and the
    GLB in its banks [mm2]. Not modelled: the NoC (GIN/GON buses, multicast controllers, the
    local psum links), the RLC codec, the ReLU, the configuration scan chain, top-level
    control, the clock tree and the pads."""
    ep, c = spec.eyeriss, spec.compute
    am = AreaModel(spec.technology_nm)
    op, acc = int(c.operand_bits), int(c.accumulator_bits)
    n_pe = math.prod(c.array)
    mac = am.mac_um2(op, acc, c.number)
    pe_logic = am.constant_um2("isca16.pe_logic", ISCA16_PE_65NM_UM2, 65, ISCA16_PE)
    parts = {"pe_array.mac": n_pe * mac,
             "pe_array.other_logic": n_pe * max(pe_logic - mac, 0.0)}
    for name, words in (("ifmap_spad", ep.ifmap_spad_words),
                        ("filter_spad", ep.filter_spad_words),
                        ("psum_spad", ep.psum_spad_words)):
        if words:
            parts[f"pe_array.{name}"] = n_pe * am.storage_um2(words * op / 8)
    glb = spec.memory[-1]
    bank = ep.glb_bank_bytes
    if ep.glb_filter_bytes:
        fmap = glb.size_bytes - ep.glb_filter_bytes
        parts["glb.fmap"] = am.sram_um2(fmap, banks=max(fmap // bank, 1))
        parts["glb.filter"] = am.sram_um2(ep.glb_filter_bytes,
                                          banks=max(math.ceil(ep.glb_filter_bytes / bank), 1))
    else:
        parts["glb"] = am.sram_um2(glb.size_bytes, banks=max(glb.size_bytes // bank, 1))
    return am.report(parts, method=(
        f"{n_pe} PEs x (a {op}-bit MAC, the rest of the ISCA 2016 framework's "
        f"{ISCA16_PE_65NM_UM2:,.0f} um2 PE logic at 65 nm, one storage instance per spad) "
        f"and the GLB in {bank:,} B banks; not modelled: NoC (GIN/GON, multicast "
        "controllers, psum links), RLC codec, ReLU, scan chain, top-level control, clock "
        "tree, pads"))


MODEL = ModelInfo(
    name="eyeriss", spec_class=EyerissSpec, evaluate=evaluate,
    description="Eyeriss (JSSC 2017 / ISCA 2016): row-stationary "
                "12x14 PE array with spads and GLB, zero gating, run-length compressed "
                "feature maps in DRAM", uses_data=True,
    fmap_coding=fmap_coding, area=area,
)
