"""The dense systolic GEMM accelerator (SCALE-Sim's machine), one engine for os / ws / is.

Every multiply-and-sum GConv with a weight operand (convolution, FC, grouped and depthwise
convolution, transposed convolution) runs as the IM2COL GEMM of ``systolic_core`` on the
``rows x cols`` array: compute cycles, folds, mapping efficiency and utilisation are exact
against SCALE-Sim v3 (``docs/systolic.md``). A grouped convolution is one GEMM per group, run
back to back (SCALE-Sim's per-channel ``DP`` layers). GConvs that are not GEMMs (pooling,
element-wise add and multiply, standalone per-channel scales, point-wise activations,
upsampling) run where ``systolic.nonconv_on`` says: ``vector``, a vector unit beside the array
at ``systolic.vector_ops_per_cycle`` operations per cycle (the "dedicated unit" of GCONV
Chain); ``array``, on the array itself in their GConv form (``array_form``: a multiply-and-sum
GConv with constant, scale or activation-tensor weights, timed, stored and priced by the same
engine; the PE applies the GConv's own map / reduce operator, priced as such).

Memory: the three double-buffered SRAMs of the spec (one holding inputs, one weights, one
outputs) serve the operand-matrix accesses SCALE-Sim counts; DRAM moves each tensor of the
layer once (compulsory traffic) and, in ``user`` bandwidth mode, a layer takes at least its
DRAM traffic divided by the DRAM bandwidth (the excess is reported as ``dram_bandwidth``
stall). In ``calc`` mode DRAM is assumed fast enough (SCALE-Sim's CALC mode).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from accelscope.arch.spec import ArchSpec, MemoryLevel, SpecSection
from accelscope.energy import NormalizedTableError, Pricing, dram_accesses
from accelscope.energy.area import AreaModel, AreaReport
from accelscope.models.array_form import array_form, is_gemm, relabel
from accelscope.models.common import footprint_elems, spec_provenance, useful_macs, with_area
from accelscope.models.contract import (
    LayerWorkload,
    ModelInfo,
    NonconvSwitch,
    UnsupportedLayerError,
)
from accelscope.models.systolic.core import Gemm, SystolicTiming, fold_tiles, systolic_timing
from accelscope.results import Access, LayerResult
from accelscope.workload.gconv import GConv

if TYPE_CHECKING:
    import numpy as np


class SystolicParams(SpecSection):
    """Parameters of the systolic engine beyond the shared compute and memory sections."""

    dataflow: Literal["os", "ws", "is"] = Field(
        description="Which operand stays in the PEs: output, weight or input stationary "
                    "[choice]")
    bandwidth_mode: Literal["calc", "user"] = Field(
        description="'calc': DRAM keeps up (SCALE-Sim's CALC mode); 'user': the DRAM "
                    "bandwidth of the dram section limits each layer [choice]")
    vector_ops_per_cycle: int = Field(
        ge=1, description="Rate of the vector unit that runs the GConvs that are not GEMMs "
                          "(pooling, element-wise, per-channel scale) [ops/cycle]")
    nonconv_on: Literal["vector", "array"] = Field(
        default="vector",
        description="Where GConvs that are not GEMMs run: 'vector', the vector "
                    "unit at vector_ops_per_cycle; 'array', the systolic array in their GConv "
                    "form (models.systolic.array_form) with the same engine; default 'vector', "
                    "reported by defaults_used() [choice]")
    memory_model: Literal["scalesim", "compulsory"] = Field(
        description="'scalesim': SCALE-Sim's double-buffered SRAMs and DRAM interface "
                    "(partial sums of ws/is row folds go to DRAM, prefetch and drain cycles, "
                    "stalls in user mode; models/systolic/memory.py); 'compulsory': each tensor "
                    "crosses DRAM once, an accumulator keeps partial sums on chip [choice]")
    im2col: Literal["ideal", "software"] = Field(
        description="'ideal': the IM2COL operand matrix is addressed in place, DRAM moves "
                    "the input tensor once (SCALE-Sim); 'software': a host expands it in "
                    "DRAM first (Gemmini without its im2col unit), so DRAM moves the whole "
                    "IM2COL matrix twice (host write, array read) [choice]")


class SystolicSpec(ArchSpec):
    """A systolic array with one SRAM per operand (SCALE-Sim's organisation)."""

    model: Literal["systolic"] = Field(description="Always 'systolic' for this spec class "
                                                   "[name]")
    systolic: SystolicParams = Field(description="Systolic engine parameters [section]")

    @model_validator(mode="after")
    def _one_sram_per_operand(self) -> SystolicSpec:
        if len(self.compute.array) != 2:
            raise ValueError(f"compute.array must be [rows, cols] for a systolic array, got "
                             f"{list(self.compute.array)}")
        for t in ("input", "weight", "output"):
            holders = [m.name for m in self.memory if t in m.holds]
            if len(holders) != 1:
                raise ValueError(f"memory: a systolic spec needs exactly one SRAM holding "
                                 f"{t}, found {holders or 'none'}")
        return self

    def sram_for(self, tensor: str) -> MemoryLevel:
        return next(m for m in self.memory if tensor in m.holds)


def gemm_of(g: GConv, per_channel: bool = False) -> Gemm | None:
    """The GEMM a GConv runs as on the array, or ``None`` for a vector-unit GConv.
    ``per_channel``: a per-channel scale (K = C = R = S = 1) runs on the array too, as a
    depthwise 1x1 GEMM (``nonconv_on: array``)."""
    if not is_gemm(g, per_channel):
        return None
    return Gemm(pixels=g.N * g.P * g.Q, window=g.C * g.R * g.S, filters=g.K, repeats=g.G)


def layer_timing(g: GConv, spec: SystolicSpec) -> SystolicTiming | None:
    gemm = gemm_of(g, per_channel=spec.systolic.nonconv_on == "array")
    if gemm is None:
        return None
    rows, cols = spec.compute.array
    return systolic_timing(gemm, rows, cols, spec.systolic.dataflow,
                           cycles_per_mac=spec.compute.cycles_per_op,
                           pipeline_depth=spec.compute.pipeline_depth)


def pricing_for(model: str, g: GConv, spec: ArchSpec) -> Pricing:
    """``Pricing.of(spec)``, a normalized energy table refused as ``model``'s located error."""
    try:
        return Pricing.of(spec)
    except NormalizedTableError as exc:
        raise UnsupportedLayerError(model, g, str(exc)) from None


def as_original(r: LayerResult, layer: LayerWorkload, form: LayerWorkload, how: str,
                pricing: Pricing) -> LayerResult:
    """A result of ``form`` (``array_form``) re-labelled as ``layer``'s (``relabel``), with
    the compute energy at the PE operation of the original GConv (``Pricing.op_pj``) instead
    of a MAC."""
    g, gf = layer.gconv, form.gconv
    op, op_text = pricing.op_pj(g)
    mac, _ = pricing.op_pj(gf)
    energy = dict(r.energy_pj)
    energy["compute"] = energy.get("compute", 0.0) * op / mac
    return relabel(r, layer, form, how, energy, "the array",
                   {"energy.op": f"{op_text} per issued PE operation"})


def evaluate(layer: LayerWorkload, spec: SystolicSpec) -> LayerResult:
    g = layer.gconv
    if not isinstance(spec, SystolicSpec):
        raise UnsupportedLayerError("systolic", g, "the spec is not a systolic spec (its "
                                    "model key must be 'systolic')")
    if spec.systolic.nonconv_on == "array" and gemm_of(g) is None:
        form, how = array_form(layer)
        if gemm_of(form.gconv, per_channel=True) is None:
            raise UnsupportedLayerError("systolic", g, f"no array form ({how}); run it with "
                                        "systolic.nonconv_on: vector")
        pricing = pricing_for("systolic", g, spec)
        r = _evaluate(form, spec, pricing)
        return with_area(as_original(r, layer, form, how, pricing), area, spec)
    return with_area(_evaluate(layer, spec, pricing_for("systolic", g, spec)), area, spec)


def area(spec: SystolicSpec) -> AreaReport:
    """The PE array (a MAC unit and its pipeline registers per MAC lane), the vector unit
    and the memory levels [mm2]; control, interconnect and I/O are not modelled."""
    c, p = spec.compute, spec.systolic
    am = AreaModel(spec.technology_nm)
    op, acc = int(c.operand_bits), int(c.accumulator_bits)
    mac = am.mac_um2(op, acc, c.number)
    n_pe = math.prod(c.array)
    # a systolic PE passes an input and a weight on and keeps (or passes) a partial sum:
    # two operand registers and one accumulator register per MAC lane
    parts = {"pe_array.mac": c.macs_per_cycle * mac,
             "pe_array.registers": n_pe * am.register_um2(c.macs_per_pe * (2 * op + acc)),
             "vector_unit": p.vector_ops_per_cycle * mac}
    for level in spec.memory:
        parts[f"sram.{level.name}"] = am.level_um2(level)
    return am.report(parts, method=(
        f"{n_pe} PEs x {c.macs_per_pe} MAC lane(s) ({op}-bit {c.number}, {acc}-bit "
        f"accumulator) with 2 operand + 1 accumulator pipeline registers per lane, a "
        f"{p.vector_ops_per_cycle}-lane vector unit of MAC units, the memory levels; the "
        "array's control, operand distribution, DRAM interface and I/O are not modelled"))


def _evaluate(layer: LayerWorkload, spec: SystolicSpec, pricing: Pricing) -> LayerResult:
    g = layer.gconv
    c = spec.compute
    bits = int(c.operand_bits)
    prov = spec_provenance(spec)
    details: dict[str, Any] = {}
    timing = layer_timing(g, spec)
    if timing is not None:
        compute_cycles = timing.compute_cycles
        sram_words = {"input": (timing.ifmap_sram_reads, 0),
                      "weight": (timing.filter_sram_reads, 0),
                      "output": (0, timing.ofmap_sram_writes)}
        details |= {"unit": "array", "dataflow": timing.dataflow, "Sr": timing.Sr,
                    "Sc": timing.Sc, "T": timing.T, "row_folds": timing.row_folds,
                    "col_folds": timing.col_folds, "repeats": timing.repeats,
                    "fold_cycles": timing.fold_cycles,
                    "mapping_efficiency": timing.mapping_efficiency,
                    "compute_utilization": timing.compute_utilization}
        details["scratchpad"], prov["scratchpad"] = scratchpad(g, spec, timing)
        details["scratchpad_bytes"] = sum(details["scratchpad"].values())
        op_pj, prov["energy.op"] = pricing.mac_pj()
    else:
        lanes = spec.systolic.vector_ops_per_cycle
        compute_cycles = math.ceil(g.macs / lanes) * c.cycles_per_op + c.pipeline_depth
        foot = footprint_elems(layer)
        sram_words = {t: (n, 0) for t, n in foot.items() if t != "output"}
        sram_words["output"] = (0, foot["output"])
        details |= {"unit": "vector", "vector_ops_per_cycle": lanes, "scratchpad": {},
                    "scratchpad_bytes": 0}
        prov["scratchpad"] = ("vector unit: operands stream through it element by element, "
                              "no tile is kept (0 B)")
        op_pj, how = pricing.op_pj(g)
        prov["energy.op"] = f"{how} on the vector unit"

    accesses: list[Access] = []
    energy = {"compute": g.macs * op_pj}
    for tensor, (rd, wr) in sram_words.items():
        level = spec.sram_for("input" if tensor == "operand" else tensor)
        accesses.append(Access(level.name, tensor, reads=rd, writes=wr, read_bits=rd * bits,
                               write_bits=wr * bits))
        energy[level.name] = (energy.get(level.name, 0.0)
                              + pricing.level_pj(level, rd * bits, wr * bits))

    d = spec.dram
    dram_pj = pricing.dram_pj_per_bit()
    if timing is not None and spec.systolic.memory_model == "scalesim":
        mem, how = _scalesim_memory(g, spec, timing)
        # SCALE-Sim counts DRAM words of one operand each
        rd_bits = {"input": mem["ifmap_dram_reads"] * bits,
                   "weight": mem["filter_dram_reads"] * bits}
        wr_bits = {"output": mem["ofmap_dram_writes"] * bits}
        accesses.extend(dram_accesses(rd_bits, wr_bits, word_bits=bits))
        dram_bits = sum(rd_bits.values()) + sum(wr_bits.values())
        energy["dram"] = dram_bits * dram_pj
        details |= {"scalesim": mem, "scalesim_geometry": how}
        prov["memory"] = ("SCALE-Sim v3 double-buffered scratchpads and DRAM interface, "
                          f"{spec.systolic.bandwidth_mode} mode (models/systolic/memory.py); "
                          f"layer as {how}")
        total = mem["total_cycles"] + mem["repeats"] * 1  # SCALE-Sim reports the last index
        cycles = max(mem["total_cycles_incl_prefetch"], total)
        stalls: dict[str, int] = {}
        if mem["stall_cycles"]:
            stalls["dram_bandwidth"] = mem["stall_cycles"]
        if cycles > total:
            stalls["dram_prefetch_drain"] = cycles - total
        return LayerResult(
            layer=g.name, kind=g.kind, model="systolic", arch=spec.name,
            clock_hz=float(spec.clock_hz), peak_macs_per_cycle=int(c.macs_per_cycle),
            cycles=max(cycles, 1), macs=g.macs, macs_issued=g.macs,
            macs_useful=useful_macs(layer), accesses=tuple(accesses), energy_pj=energy,
            stall_cycles=stalls, provenance={**prov, **pricing.provenance},
            scratchpad_bytes=details.pop("scratchpad_bytes", None),
            software_im2col_elems=details.pop("software_im2col_elems", 0), details=details)

    # DRAM: compulsory traffic, each tensor once; a software IM2COL matrix written and read
    foot = footprint_elems(layer)
    wr_bits = {"output": foot.pop("output") * bits}
    if timing is not None and spec.systolic.im2col == "software" and (g.R * g.S > 1
                                                                        or g.stride != (1, 1)):
        expanded = g.G * g.N * g.P * g.Q * g.C * g.R * g.S
        foot["input"] = expanded
        wr_bits["im2col"] = expanded * bits
        details["software_im2col_elems"] = expanded
    rd_bits = {t: n * bits for t, n in foot.items()}
    accesses.extend(dram_accesses(rd_bits, wr_bits, d.word_bits))
    dram_bits = sum(rd_bits.values()) + sum(wr_bits.values())
    energy["dram"] = dram_bits * dram_pj
    prov["memory"] = ("SRAM accesses: SCALE-Sim's operand-matrix counts; DRAM: compulsory "
                      "traffic, each tensor once" + ("; software IM2COL matrix written and "
                                                     "read through DRAM"
                                                     if spec.systolic.im2col == "software"
                                                     else ""))

    stalls = {}
    cycles = compute_cycles
    if spec.systolic.bandwidth_mode == "user":
        dram_cycles = math.ceil(dram_bits / d.bandwidth_bits_per_cycle)
        if dram_cycles > compute_cycles:
            stalls["dram_bandwidth"] = dram_cycles - compute_cycles
            cycles = dram_cycles
    macs_issued = g.macs
    return LayerResult(
        layer=g.name, kind=g.kind, model="systolic", arch=spec.name,
        clock_hz=float(spec.clock_hz), peak_macs_per_cycle=int(c.macs_per_cycle),
        cycles=max(cycles, 1), macs=g.macs, macs_issued=macs_issued,
        macs_useful=useful_macs(layer), accesses=tuple(accesses), energy_pj=energy,
        stall_cycles=stalls, provenance={**prov, **pricing.provenance},
            scratchpad_bytes=details.pop("scratchpad_bytes", None),
            software_im2col_elems=details.pop("software_im2col_elems", 0), details=details)


def _touches(n_out: int, n_in: int, k: int, stride: int, dil: int, pad_lo: int,
             in_dil: int) -> np.ndarray:
    """Cumulative incidence along one axis: ``cum[o, i]`` = how many of the outputs
    ``0 .. o-1`` have a window tap on real input ``i`` (shape (n_out + 1, n_in))."""
    import numpy as np

    o = np.arange(n_out)[:, None, None]
    r = np.arange(k)[None, :, None]
    i = np.arange(n_in)[None, None, :]
    inc = ((o * stride + r * dil) == (i * in_dil + pad_lo)).any(axis=1)
    return np.concatenate([np.zeros((1, n_in), dtype=np.int64), np.cumsum(inc, axis=0)])


def os_fold_inputs(g: GConv, rows: int) -> int:
    """Distinct real input elements (one group) that the windows of the worst ``os`` fold
    touch: a fold is ``rows`` consecutive output pixels in (N, P, Q) order. Within an image
    the pixels are up to three rectangles (a partial first output row, full rows, a partial
    last row); a rectangle of outputs touches the product of the input rows its output rows
    reach and the input columns its output columns reach (the window is separable), so the
    union is counted exactly by inclusion-exclusion; different images never share inputs.
    Zero padding only (padding is generated, not stored)."""
    import numpy as np

    pq = g.P * g.Q
    ch = _touches(g.P, g.H, g.R, g.stride[0], g.dilation[0], g.padding[0],
                  g.input_dilation[0])
    cw = _touches(g.Q, g.W, g.S, g.stride[1], g.dilation[1], g.padding[1],
                  g.input_dilation[1])

    def span(cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        # (F, n_in) inputs reached by outputs lo..hi (empty if hi < lo)
        reached: np.ndarray = (cum[np.maximum(hi + 1, lo)] - cum[lo]) > 0
        return reached

    def within(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        # distinct inputs of the raster ranges [u, v) of one image, v > u
        pu, qu = np.divmod(u, g.Q)
        pe, qe = np.divmod(v - 1, g.Q)
        one = pu == pe
        rects = [(span(ch, pu, pu), span(cw, qu, np.where(one, qe, g.Q - 1))),
                 (span(ch, pu + 1, pe - 1), span(cw, np.zeros_like(u), np.full_like(u, g.Q - 1))),
                 (span(ch, pe, np.where(one, pe - 1, pe)), span(cw, np.zeros_like(u), qe))]
        total = np.zeros(u.shape, dtype=np.int64)
        for sign, idx in ((1, (0,)), (1, (1,)), (1, (2,)), (-1, (0, 1)), (-1, (0, 2)),
                          (-1, (1, 2)), (1, (0, 1, 2))):
            rr = np.logical_and.reduce([rects[j][0] for j in idx])
            cc = np.logical_and.reduce([rects[j][1] for j in idx])
            total += sign * rr.sum(axis=1) * cc.sum(axis=1)
        return total

    a = np.arange(0, g.N * pq, rows, dtype=np.int64)
    b = np.minimum(a + rows, g.N * pq)
    na, nb = a // pq, (b - 1) // pq
    first = within(a - na * pq, np.minimum(b - na * pq, pq))
    last = within(np.zeros_like(b), b - nb * pq)
    full = int(within(np.array([0]), np.array([pq]))[0])
    count = first + np.where(nb > na, (nb - na - 1) * full + last, 0)
    return int(count.max()) * g.C


def scratchpad(g: GConv, spec: SystolicSpec, timing: SystolicTiming
               ) -> tuple[dict[str, int], str]:
    """On-chip bytes a GEMM layer's fold needs besides its stored feature maps, per operand
    SRAM, and how they were obtained (for a unified-SRAM split, ``passes/fmaps.py``).

    Each operand's tile of the largest fold (``systolic_core.fold_tiles``) at the operand
    width (partial sums of ``ws`` / ``is`` at the accumulator width when the ``compulsory``
    memory model keeps them in an accumulator; SCALE-Sim's OFMAP SRAM holds operand words),
    twice over when the spec marks its SRAM double-buffered (one fold computes while the
    next one's tile is loaded), capped by that SRAM: the model's own traffic assumes no
    more. With the IM2COL matrix addressed in place, the input tile is also capped by the
    group's real input (a fold cannot touch more distinct elements than it holds) and, for
    ``os`` with zero padding, by the distinct inputs of the worst fold's windows
    (``os_fold_inputs``): neighbouring pixels share most of their windows."""
    bits = int(spec.compute.operand_bits)
    acc = int(spec.compute.accumulator_bits)
    tiles = fold_tiles(timing)
    expanded = spec.systolic.im2col == "software" and (g.R * g.S > 1 or g.stride != (1, 1))
    distinct = None
    if not expanded:
        tiles["input"] = min(tiles["input"], g.input_elems // g.G)
        if timing.dataflow == "os" and g.pad_mode == "zeros":
            distinct = os_fold_inputs(g, min(timing.rows, timing.Sr))
            tiles["input"] = min(tiles["input"], distinct)
    out_bits = bits if timing.dataflow == "os" or spec.systolic.memory_model == "scalesim" \
        else acc
    parts, how = {}, []
    for tensor, elems in tiles.items():
        level = spec.sram_for(tensor)
        width = out_bits if tensor == "output" else bits
        copies = 2 if level.double_buffered else 1
        need = math.ceil(elems * width / 8) * copies
        parts[tensor] = min(need, level.size_bytes)
        how.append(f"{tensor} {elems} x {width} b x {copies} = {need} B"
                   + (f" capped at {level.name} {level.size_bytes} B"
                      if need > level.size_bytes else ""))
    rows_used, cols_used = min(timing.rows, timing.Sr), min(timing.cols, timing.Sc)
    text = (f"one {timing.dataflow} fold's operand tiles on the {timing.rows}x{timing.cols} "
            f"array (rows used {rows_used}, cols used {cols_used}, T {timing.T}"
            + ("; input = the software IM2COL matrix" if expanded else "")
            + (f"; input = the {distinct} distinct real inputs of the worst fold's "
               "windows" if distinct is not None else "")
            + "): " + "; ".join(how) + f" -> {sum(parts.values())} B")
    return parts, text


def _scalesim_memory(g: GConv, spec: SystolicSpec, timing: SystolicTiming,
                     ) -> tuple[dict[str, int], str]:
    """SCALE-Sim's memory report for a GEMM GConv, summed over its groups.

    A convolution SCALE-Sim can express (one image, square stride, no dilation, zero
    padding) uses its conv geometry, so overlapping windows share DRAM reads; anything else
    (batch > 1, FC, dilation, transposed convolution) uses SCALE-Sim's GEMM form (M x K by
    K x N), where every IM2COL element is its own address. Words are operands: SRAM sizes and
    DRAM bandwidth are converted at ``compute.operand_bits``.
    """
    from accelscope.models.systolic.memory import scalesim_memory

    bits = spec.compute.operand_bits
    word_bytes = bits / 8

    def kb(tensor: str) -> int:
        return max(int(spec.sram_for(tensor).size_bytes / word_bytes // 1024), 1)

    bw = max(int(spec.dram.bandwidth_bits_per_cycle // bits), 1)
    conv_ok = (g.N == 1 and g.stride[0] == g.stride[1] and g.dilation == (1, 1)
               and g.input_dilation == (1, 1) and g.pad_mode == "zeros")
    if conv_ok:
        geo = {"ifmap_h": (g.P - 1) * g.stride[0] + g.R, "ifmap_w": (g.Q - 1) * g.stride[1] + g.S,
               "filter_h": g.R, "filter_w": g.S, "channels": g.C, "num_filter": g.K,
               "stride": g.stride[0]}
        how = (f"conv {geo['ifmap_h']}x{geo['ifmap_w']}x{g.C}, {g.R}x{g.S}x{g.K}, stride "
               f"{g.stride[0]}" + (f", x{g.G} groups" if g.G > 1 else ""))
    else:
        geo = {"ifmap_h": timing.macs // timing.repeats // (g.C * g.R * g.S * g.K),
               "ifmap_w": g.C * g.R * g.S, "filter_h": 1, "filter_w": g.C * g.R * g.S,
               "channels": 1, "num_filter": g.K, "stride": 1}
        how = (f"GEMM M={geo['ifmap_h']} K={geo['ifmap_w']} N={g.K}"
               + (f", x{g.G} groups" if g.G > 1 else ""))
    rows, cols = spec.compute.array
    rep = scalesim_memory(dataflow=spec.systolic.dataflow, array_rows=rows, array_cols=cols,
                          ifmap_sram_kb=kb("input"), filter_sram_kb=kb("weight"),
                          ofmap_sram_kb=kb("output"),
                          bandwidth_mode=spec.systolic.bandwidth_mode,
                          ifmap_dram_bw_words=bw, filter_dram_bw_words=bw,
                          ofmap_dram_bw_words=bw, **geo)
    keys = ("total_cycles_incl_prefetch", "total_cycles", "stall_cycles", "ifmap_dram_reads",
            "filter_dram_reads", "ofmap_dram_writes")
    out = {k: int(getattr(rep, k)) * g.G for k in keys}
    out["repeats"] = g.G
    return out, how


MODEL = ModelInfo(
    name="systolic", spec_class=SystolicSpec, evaluate=evaluate,
    description="dense systolic GEMM array (os/ws/is), compute "
                "timing exact against SCALE-Sim v3; vector unit for non-GEMM layers",
                uses_data=False,
    nonconv=NonconvSwitch(section='systolic', unit='vector'), area=area,
)
