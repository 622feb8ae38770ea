"""Execution strategies for a whole GConv chain on one accelerator (GCONV Chain, issue 9).

Zhang, Chen, Ray, "GCONV Chain: Optimizing the Whole-life Cost in End-to-end CNN
Acceleration" (IEEE TC 2021, arXiv 2104.05541) contrast three ways of running the layers a
convolution accelerator was not built for. Each is a function of the per-GConv workloads and
an accelerator spec, built on the accelerator models' pure per-layer ``evaluate``:

* ``gconv``: every GConv of the chain on the accelerator. A model with a switch between its
  array and a dedicated unit for the non-conv GConvs (``nonconv_on`` of the systolic, SPOTS
  and SCNN specs, ``NONCONV_SECTIONS``) runs them on the array in their GConv form
  (``nonconv_on: array``, ``models.systolic.array_form``); any other model as it runs them.
* ``dedicated``: the same, with the non-conv GConvs on the dedicated unit beside the array
  (``nonconv_on: vector``, the vector unit of the systolic and SPOTS specs; ``ppu``, SCNN's
  post-processing units); a model without
  the switch runs as it does (its own placement, said in a warning).
* ``host-fallback``: convolutions and FC layers (``is_conv_fc``) on the accelerator, every
  other GConv measured on the host CPU (the ``host`` model), and every tensor that crosses the
  accelerator/host boundary moved once per crossing through the shared DRAM (``Transfer``).
* ``matrix``: the non-conv GConvs rewritten into their matrix/vector form with no window reuse
  (``matrix_form``): a windowed GConv reads an explicit im2col-expanded tensor that was written
  to and read back from DRAM, then reduces it as a 1x1 GConv; element-wise, per-channel and
  point-wise GConvs are already 1-D vector ops and stay as they are. The cost of the rewritten
  GConv comes out of the same accelerator model.

``fuse_chain`` then keeps on chip each intermediate tensor between two consecutive
accelerator GConvs that fits the accelerator's fusion buffer (``fusion_capacity``), removing
its DRAM write and read and reporting the bits saved.

Every strategy returns a ``NetworkResult`` in chain order; host layers are re-expressed at the
accelerator's clock (the measured seconds are unchanged), transfers and im2col expansions are
extra rows (``model`` ``transfer``), and ``details`` / ``provenance`` say what was assumed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from accelscope.errors import AccelscopeError
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.results import Access, LayerResult, NetworkResult
from accelscope.workload.execute import _prepare_input
from accelscope.workload.gconv import Chain, GConv, PostOp, View

STRATEGIES = ("gconv", "host-fallback", "matrix", "dedicated")
#: spec sections that carry ``nonconv_on`` (where non-conv GConvs run: the array, or the
#: section's dedicated unit named here: the vector unit, SCNN's post-processing units)
NONCONV_SECTIONS = {"systolic": "vector", "spots": "vector", "scnn": "ppu"}
#: nonconv_on that each strategy sets where a spec has the switch (others keep the preset's);
#: ``dedicated`` stands for the section's own unit (NONCONV_SECTIONS)
NONCONV_ON = {"gconv": "array", "dedicated": "dedicated"}
DEFAULT_HOST = "cpu"  #: host preset of host-fallback (the measured CPU baseline)
#: PyTorch threads of the measured host unless the caller says otherwise: on a shared machine
#: a multi-threaded PyTorch stalls whenever another process holds a core (a 3x3 max pool took
#: 12-32 ms with 2 threads against 0.2-1 ms with one, measured on the 2-core CI machine under
#: load), so one thread gives the repeatable figure; None keeps the preset's setting.
DEFAULT_HOST_THREADS = 1

ON_ACCEL, ON_HOST = "accelerator", "host"


class StrategyError(AccelscopeError):
    """A strategy was asked for something it cannot do (unknown name, wrong host spec)."""


def parse_strategies(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"gconv,host-fallback"`` -> ("gconv", "host-fallback"), checked and de-duplicated."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in (s.strip() for s in items):
        if not item:
            continue
        if item not in STRATEGIES:
            raise StrategyError(f"--strategy {item!r} is not a strategy; choose from "
                                f"{', '.join(STRATEGIES)} (comma-separated, e.g. "
                                "--strategy gconv,host-fallback)")
        if item not in out:
            out.append(item)
    if not out:
        raise StrategyError(f"--strategy is empty; give one or more of {', '.join(STRATEGIES)}")
    return tuple(out)


# -- classification -----------------------------------------------------------------------------
def is_conv_fc(g: GConv) -> bool:
    """Whether a GConv is a convolution or FC layer: what a convolution-only accelerator runs.

    The rule, from the GConv fields alone: multiply map, sum reduce, a static weight operand,
    and more than one multiply per output (``K > 1`` or ``C*R*S > 1``). That covers standard,
    grouped, depthwise, dilated and transposed convolutions and FC layers (with their fused
    bias / scale / activation post-ops); it excludes pooling and upsampling (pass-through map),
    element-wise ops (tensor operand), point-wise activations, and per-channel affine GConvs
    (batch-norm / scale: ``K = C = R = S = 1``), which is the same line the systolic, SPOTS and
    SCNN models draw between their array and their vector / post-processing units.
    """
    return (g.map_op == "mul" and g.reduce_op == "sum" and g.operand_kind == "weight"
            and not (g.K == 1 and g.C * g.R * g.S == 1))


def placement(workloads: Sequence[LayerWorkload], strategy: str) -> list[str]:
    """Where each GConv runs under ``strategy``: ``accelerator`` or ``host``."""
    if strategy == "host-fallback":
        return [ON_ACCEL if is_conv_fc(w.gconv) else ON_HOST for w in workloads]
    return [ON_ACCEL] * len(workloads)


# -- tensors through views ----------------------------------------------------------------------
def _views(chain: Chain | None) -> dict[str, View]:
    return {} if chain is None else {v.output: v for v in chain.views}


def base_tensors(chain: Chain | None, tensor: str) -> tuple[str, ...]:
    """The GConv outputs or chain inputs a tensor is made of, looking through layout views
    (reshape, permute, slice: their input; concat: all of its inputs)."""
    views = _views(chain)
    out: list[str] = []
    todo = [tensor]
    while todo:
        t = todo.pop()
        v = views.get(t)
        if v is None:
            if t not in out:
                out.append(t)
        else:
            todo.extend(reversed(v.inputs))
    return tuple(out)


def _elems(chain: Chain | None, workloads: Sequence[LayerWorkload], tensor: str) -> int:
    if chain is not None and tensor in chain.tensors:
        return chain.tensors[tensor].elems
    for w in workloads:
        if w.gconv.output == tensor:
            return w.gconv.output_elems
        if w.gconv.input == tensor:
            return w.gconv.input_elems
    raise StrategyError(f"tensor {tensor!r} is in neither the chain's tensor table nor a "
                        "GConv of the workloads; pass the chain the workloads were built from")


def _reads(g: GConv) -> tuple[str, ...]:
    return (g.input, g.operand) if g.operand_kind == "tensor" and g.operand else (g.input,)


def host_with_threads(host: Any, threads: int | None) -> Any:
    """The host spec with PyTorch pinned to ``threads`` threads (``None``: unchanged)."""
    if threads is None or host.host.device != "cpu" or host.host.threads == threads:
        return host
    if threads < 1:
        raise StrategyError(f"--host-threads must be at least 1 (or 0 for the preset's "
                            f"setting), got {threads}")
    return host.model_copy(update={"host": host.host.model_copy(update={"threads": threads})})


# -- host-fallback transfers --------------------------------------------------------------------
@dataclass(frozen=True)
class Transfer:
    """One tensor crossing the accelerator/host boundary through the shared DRAM.

    ``to-host``: made on the accelerator (or a chain input, which lies in DRAM), read by the
    host; ``from-host``: made on the host, written to DRAM for the accelerator. ``after`` is the
    index of the workload the transfer follows in the result (its producer for ``from-host``,
    the one before its first host reader for ``to-host``).
    """

    tensor: str
    direction: str
    elems: int
    after: int


def host_transfers(workloads: Sequence[LayerWorkload], where: Sequence[str],
                   chain: Chain | None = None) -> list[Transfer]:
    """Every tensor that crosses the boundary, once per crossing direction, in chain order.

    A tensor read through a layout view crosses as the GConv outputs the view is made of (a
    concat of four accelerator branches read by a host pooling GConv is four transfers). A
    chain output made on the host stays there (no transfer).
    """
    producer = {w.gconv.output: i for i, w in enumerate(workloads)}
    seen: set[tuple[str, str]] = set()
    out: list[Transfer] = []
    for j, w in enumerate(workloads):
        for t in _reads(w.gconv):
            for b in base_tensors(chain, t):
                i = producer.get(b)
                src = ON_ACCEL if i is None else where[i]  # chain inputs lie in DRAM
                if src == where[j]:
                    continue
                direction = "to-host" if where[j] == ON_HOST else "from-host"
                if (b, direction) in seen:
                    continue
                seen.add((b, direction))
                after = j - 1 if direction == "to-host" else i
                out.append(Transfer(b, direction, _elems(chain, workloads, b), after))
    return out


def _dram_pj_per_bit(spec: Any) -> tuple[float, str]:
    from accelscope.energy import get_table

    if spec.dram.energy_pj_per_bit is not None:
        return float(spec.dram.energy_pj_per_bit), f"{spec.name}.dram.energy_pj_per_bit"
    table = get_table(spec.energy_table)
    if table.normalized:
        raise StrategyError(f"arch {spec.name!r} prices energy with the normalized table "
                            f"{table.name!r}; DRAM transfers need absolute pJ: use a preset "
                            "with an absolute energy table")
    return float(table.dram_pj_per_bit), f"{table.name} dram_pj_per_bit"


def _movement_result(spec: Any, name: str, kind: str, reads_bits: Mapping[str, int],
                     writes_bits: Mapping[str, int], details: Mapping[str, Any],
                     prov: Mapping[str, str]) -> LayerResult:
    """A data-movement row: DRAM traffic at the accelerator's DRAM bandwidth and energy per
    bit, no arithmetic, not overlapped with anything (layers run one after another)."""
    d = spec.dram
    pj, pj_src = _dram_pj_per_bit(spec)
    accesses = [Access("dram", t, reads=math.ceil(b / d.word_bits), read_bits=b)
                for t, b in reads_bits.items()]
    accesses += [Access("dram", t, writes=math.ceil(b / d.word_bits), write_bits=b)
                 for t, b in writes_bits.items()]
    bits = sum(reads_bits.values()) + sum(writes_bits.values())
    cycles = max(1, math.ceil(bits / d.bandwidth_bits_per_cycle))
    return LayerResult(
        layer=name, kind=kind, model="transfer", arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=int(spec.compute.macs_per_cycle), cycles=cycles, macs=0,
        macs_issued=0, macs_useful=0, accesses=tuple(accesses),
        energy_pj={"dram": bits * pj}, stall_cycles={"dram_bandwidth": cycles},
        details=dict(details),
        provenance={**prov, "dram.bandwidth": f"{spec.name}.dram.bandwidth_bits_per_cycle = "
                    f"{d.bandwidth_bits_per_cycle:g}", "dram.energy": f"{pj:.4g} pJ/bit from "
                    f"{pj_src}"})


def transfer_result(t: Transfer, spec: Any) -> LayerResult:
    bits = t.elems * int(spec.compute.operand_bits)
    role = "to_host" if t.direction == "to-host" else "from_host"
    reads = {role: bits} if t.direction == "to-host" else {}
    writes = {role: bits} if t.direction == "from-host" else {}
    return _movement_result(
        spec, f"{t.direction}:{t.tensor}", t.direction, reads, writes,
        {"tensor": t.tensor, "elems": t.elems, "bits": bits, "direction": t.direction,
         "on": "boundary"},
        {"transfer": "host-fallback: the tensor moves once per crossing through the DRAM the "
         "accelerator and host share, at the accelerator's operand width, DRAM bandwidth and "
         "energy per bit; the measured host time excludes it (warm caches); no coherence, "
         "flush or launch overhead is counted"})


def _host_layer(r: LayerResult, spec: Any, host_spec: Any) -> LayerResult:
    """A host measurement re-expressed at the accelerator's clock (seconds unchanged)."""
    cycles = max(1, round(r.seconds * float(spec.clock_hz)))
    return dataclasses.replace(
        r, clock_hz=float(spec.clock_hz), cycles=cycles,
        peak_macs_per_cycle=int(spec.compute.macs_per_cycle),
        energy_pj={f"host_{k}": v for k, v in r.energy_pj.items()},
        details={**r.details, "on": ON_HOST, "host_arch": host_spec.name,
                 "host_cycles": r.cycles, "host_clock_hz": r.clock_hz},
        provenance={**r.provenance, "host_layer": f"measured on {host_spec.name}; cycles "
                    f"re-expressed at {spec.name}'s clock, seconds unchanged"})


# -- matrix form ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatrixForm:
    """A non-conv GConv in matrix/vector form: the workload the accelerator runs and the
    im2col expansion (elements written to DRAM and read back) that feeds it, 0 if none."""

    workload: LayerWorkload
    expanded_elems: int
    materialised: bool


def needs_im2col(g: GConv) -> bool:
    """Whether the matrix form of a non-conv GConv reads an explicit im2col tensor: a window
    of more than one tap (pooling, upsampling), i.e. anything but element-wise, per-channel and
    point-wise GConvs, which are 1-D vector ops already."""
    return not is_conv_fc(g) and g.operand_kind != "tensor" and g.R * g.S > 1


def _im2col_elems(g: GConv) -> int:
    return g.N * g.G * g.C * g.R * g.S * g.P * g.Q


def _materialised(g: GConv) -> bool:
    """The expanded tensor differs from a strided view of the input: windows overlap, leave
    gaps, read padding or inserted zeros (a 2x2/2 pool or a global pool only reorders)."""
    return (_im2col_elems(g) != g.input_elems or any(g.padding)
            or g.input_dilation != (1, 1) or g.dilation != (1, 1))


def im2col_tensor(g: GConv, x: torch.Tensor) -> torch.Tensor:
    """The expanded input ``(N, G*C*R*S, P, Q)``: channel ``(g*C + c)*R*S + r*S + s`` holds
    tap (r, s) of input channel g*C + c (padding and inserted zeros included)."""
    cols = F.unfold(_prepare_input(x, g), (g.R, g.S), dilation=g.dilation, stride=g.stride)
    return cols.reshape(g.N, g.G * g.C * g.R * g.S, g.P, g.Q)


def matrix_gconv(g: GConv) -> GConv:
    """The 1x1 GConv that reduces the im2col tensor: ``C' = C*R*S`` taps per output, no
    window, no padding. A mean becomes a sum and a ``1/(R*S)`` scale (exact without padding
    or when padding counts; a window that excludes padding divides by fewer taps: same cost,
    different border values)."""
    reduce_op, post = g.reduce_op, g.post_ops
    if g.reduce_op == "mean":
        reduce_op = "sum"
        post = (PostOp("scale", value=1.0 / (g.R * g.S)),) + g.post_ops
    return dataclasses.replace(
        g, name=g.name, C=g.C * g.R * g.S, H=g.P, W=g.Q, R=1, S=1, input=f"{g.input}@im2col",
        stride=(1, 1), dilation=(1, 1), padding=(0, 0, 0, 0), input_dilation=(1, 1),
        pad_mode="zeros", pad_value=0.0, mean_pad=(0, 0, 0, 0), reduce_op=reduce_op,
        post_ops=post, origin_op=f"{g.origin_op}(im2col)")


def matrix_form(w: LayerWorkload) -> MatrixForm:
    """The matrix/vector form of a workload (itself when it has no window to expand)."""
    g = w.gconv
    if not needs_im2col(g):
        return MatrixForm(w, 0, False)
    m = matrix_gconv(g)
    x = None
    dens = w.input_density  # statistical mode: the input's density (padding not counted)
    if w.input is not None:
        x = im2col_tensor(g, w.input)
        dens = float(torch.count_nonzero(x)) / max(x.numel(), 1)
    mw = dataclasses.replace(w, gconv=m, input=x, input_density=dens,
                             input_is_network_input=False)
    mat = _materialised(g)
    return MatrixForm(mw, _im2col_elems(g) if mat else 0, mat)


def expansion_result(w: LayerWorkload, form: MatrixForm, spec: Any) -> LayerResult:
    """The im2col expansion of a matrix-form GConv: the input read once from DRAM, the
    expanded tensor written back (the accelerator model then reads it as its input)."""
    g = w.gconv
    bits = int(spec.compute.operand_bits)
    return _movement_result(
        spec, f"im2col:{g.name}", "im2col-expand", {"input": g.input_elems * bits},
        {"im2col": form.expanded_elems * bits},
        {"on": "dram", "layer": g.name, "input_elems": g.input_elems,
         "expanded_elems": form.expanded_elems,
         "expansion": form.expanded_elems / max(g.input_elems, 1)},
        {"im2col": "matrix strategy: an address-generation / DMA engine reads the input once "
         "and writes the im2col-expanded tensor to DRAM at the DRAM bandwidth (no window "
         "reuse); the reducing 1x1 GConv reads it back through the accelerator model"})


# -- fusion along the chain ----------------------------------------------------------------------
def fusion_capacity(spec: Any) -> tuple[int, str]:
    """Bytes of on-chip feature-map storage an intermediate tensor may occupy between two
    fused GConvs, and how that was derived.

    The rule (the same for every preset): the largest on-chip level that holds outputs,
    halved when it is double-buffered or also holds inputs (the other half keeps streaming the
    layers' own input and output tiles). SPOTS and systolic presets: the output SRAM; Eyeriss:
    the global buffer; SCNN / DCNN: the OARAM (per-PE tiles, summed over the PEs); ideal: the
    global buffer.
    """
    holders = [m for m in spec.memory if "output" in m.holds]
    if not holders:
        raise StrategyError(f"arch {spec.name!r} has no on-chip level that holds outputs; "
                            "chain fusion needs one (add output to a level's holds)")
    level = max(holders, key=lambda m: (m.size_bytes, m.name))
    halved = level.double_buffered or "input" in level.holds
    cap = level.size_bytes // 2 if halved else level.size_bytes
    why = ("double-buffered" if level.double_buffered else "shared with input tiles")
    how = (f"{level.name} ({level.size_bytes:,} B" + (f", halved: {why})" if halved else ")"))
    return cap, how


@dataclass(frozen=True)
class FusedTensor:
    tensor: str
    producer: int  # workload index
    consumer: int
    bytes: int


def fusion_plan(workloads: Sequence[LayerWorkload], where: Sequence[str], capacity: int,
                bits: int, chain: Chain | None = None,
                expanded: Sequence[bool] | None = None) -> list[FusedTensor]:
    """The intermediates kept on chip, greedily in chain order.

    A tensor qualifies when its producer and the next GConv both run on the accelerator, that
    next GConv reads it as its main input (directly or through reshape views) and is its only
    reader, it is not a chain output, and the next GConv does not read it through an im2col
    expansion (matrix strategy). It is kept when it fits, together with the kept tensors live
    during the same GConvs (a GConv's kept input and kept output are on chip at once), into
    ``capacity`` bytes.
    """
    expanded = expanded or [False] * len(workloads)
    outputs = set(chain.outputs) if chain is not None else set()
    readers: dict[str, int] = {}
    for w in workloads:
        for t in _reads(w.gconv):
            for b in base_tensors(chain, t):
                readers[b] = readers.get(b, 0) + 1
    if chain is not None:  # a view other than a reshape also reads its input
        for v in chain.views:
            if v.op != "reshape":
                for t in v.inputs:
                    for b in base_tensors(chain, t):
                        readers[b] = readers.get(b, 0) + 1
    load = [0] * len(workloads)
    plan: list[FusedTensor] = []
    for i in range(len(workloads) - 1):
        g, nxt = workloads[i].gconv, workloads[i + 1].gconv
        t = g.output
        if where[i] != ON_ACCEL or where[i + 1] != ON_ACCEL or expanded[i + 1]:
            continue
        if t in outputs or readers.get(t, 0) != 1 or base_tensors(chain, nxt.input) != (t,):
            continue
        size = math.ceil(g.output_elems * bits / 8)
        if load[i] + size <= capacity and load[i + 1] + size <= capacity:
            load[i] += size
            load[i + 1] += size
            plan.append(FusedTensor(t, i, i + 1, size))
    return plan


def _drop_dram(r: LayerResult, roles: Mapping[str, float]) -> tuple[LayerResult, int]:
    """Remove the fraction ``roles[role]`` of each DRAM access of that role."""
    old = sum(a.bits for a in r.accesses if a.level == "dram")
    acc = []
    for a in r.accesses:
        keep = 1.0 - roles.get(a.tensor, 0.0) if a.level == "dram" else 1.0
        if keep <= 0.0:
            continue
        if keep < 1.0:
            a = Access(a.level, a.tensor, round(a.reads * keep), round(a.writes * keep),
                       round(a.read_bits * keep), round(a.write_bits * keep))
        acc.append(a)
    acc = tuple(acc)
    new = sum(a.bits for a in acc if a.level == "dram")
    energy = dict(r.energy_pj)
    if "dram" in energy and old:
        energy["dram"] *= new / old
    return dataclasses.replace(r, accesses=acc, energy_pj=energy), old - new


# -- the strategies ----------------------------------------------------------------------------
def nonconv_on(spec: Any) -> str | None:
    """Where ``spec`` runs its non-conv GConvs (``array`` or its dedicated unit: ``vector``,
    ``ppu``), or ``None`` when its model has no such switch."""
    for sec in NONCONV_SECTIONS:
        params = getattr(spec, sec, None)
        if params is not None and hasattr(params, "nonconv_on"):
            return params.nonconv_on
    return None


def with_nonconv_on(spec: Any, where: str) -> Any:
    """``spec`` with its non-conv GConvs on ``where`` (``array``, ``dedicated`` for the
    section's own unit, or that unit's name: ``vector``, ``ppu``); unchanged when its model
    has no switch."""
    for sec, unit in NONCONV_SECTIONS.items():
        params = getattr(spec, sec, None)
        if params is not None and hasattr(params, "nonconv_on"):
            if where == "dedicated":
                where = unit
            if where not in ("array", unit):
                raise StrategyError(f"{spec.name}: {sec}.nonconv_on is 'array' or {unit!r}, "
                                    f"not {where!r}")
            if params.nonconv_on == where:
                return spec
            return spec.model_copy(update={sec: params.model_copy(
                update={"nonconv_on": where})})
    return spec


def _load_spec(spec: Any) -> Any:
    if isinstance(spec, str):
        from accelscope.arch import load_arch

        return load_arch(spec)
    return spec


def evaluate_strategy(workloads: Sequence[LayerWorkload], spec: Any, strategy: str, *,
                      chain: Chain | None = None, host_spec: Any = None,
                      host_threads: int | None = DEFAULT_HOST_THREADS, fuse: bool = False,
                      network: str | None = None, details: Mapping[str, Any] | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      cache: dict | None = None) -> NetworkResult:
    """Evaluate a chain's workloads on ``spec`` under ``strategy`` (see the module docstring).

    ``chain`` (the chain the workloads were built from) resolves tensors read through layout
    views (concat, flatten) for host transfers and fusion; without it only direct GConv-to-GConv
    tensors are seen. ``host_spec`` (default the ``cpu`` preset) measures host-fallback's host
    layers, on ``host_threads`` PyTorch threads (``DEFAULT_HOST_THREADS``; ``None`` keeps the
    preset's setting). ``fuse`` applies ``fuse_chain`` afterwards. ``cache`` (a dict the
    caller keeps for one list of workloads) reuses the accelerator results of GConvs that run
    unchanged under several strategies (models are pure: the answer is the same) and the host
    measurements across strategies and archs (one measurement per host layer, so every
    arch's host-fallback sees the same host times).
    """
    if strategy not in STRATEGIES:
        parse_strategies(str(strategy))  # raises, naming the strategies
        raise StrategyError(f"give one strategy, not {strategy!r}")
    spec = _load_spec(spec)
    preset_nonconv = nonconv_on(spec)
    if strategy in NONCONV_ON:
        spec = with_nonconv_on(spec, NONCONV_ON[strategy])
    info = get_model(spec.model)
    if info.measured:
        raise StrategyError(f"arch {spec.name!r} is a measured baseline (model "
                            f"{spec.model!r}); strategies apply to accelerator models: give "
                            "an accelerator preset such as spots, eyeriss or scnn")
    network = network or (chain.name if chain is not None else
                          (workloads[0].network if workloads else "network"))
    where = placement(workloads, strategy)
    prov: dict[str, str] = {"arch": f"{spec.name}: {spec.source}", "model": info.description,
                            "strategy": _STRATEGY_TEXT[strategy],
                            "strategy.classification": "conv/FC = multiply map, sum reduce, "
                            "static weights, K > 1 or C*R*S > 1 (strategy.is_conv_fc)"}
    warnings: list[str] = []
    mode = nonconv_on(spec)
    if mode is not None:
        prov["strategy.nonconv_on"] = (f"{mode} (preset: {preset_nonconv}): non-conv GConvs "
                                       + ("on the array in their GConv form" if mode == "array"
                                          else f"on the dedicated unit ({mode}) beside the array"))
    elif strategy == "dedicated":
        warnings.append(f"model {spec.model!r} has no dedicated-unit switch (nonconv_on): "
                        "the dedicated strategy runs it as the model does")
    layers: list[LayerResult] = []
    kinds: list[str] = []  # per row: conv, nonconv, transfer, im2col
    row_of: list[int] = []  # workload index -> row of its GConv result
    expanded = [False] * len(workloads)
    host = None
    if strategy == "host-fallback":
        host = _load_spec(host_spec if host_spec is not None else DEFAULT_HOST)
        if get_model(host.model).name != "host":
            raise StrategyError(f"--host {host.name!r} is not a measured host preset (model "
                                f"{host.model!r}); give cpu or gpu")
        host = host_with_threads(host, host_threads)
        prov["host"] = f"{host.name}: {host.source}"
        prov["host.threads"] = (f"{host.host.threads} (host_threads={host_threads}; "
                                f"constant DEFAULT_HOST_THREADS = {DEFAULT_HOST_THREADS})")
        prov["host.constant.DEFAULT_HOST"] = DEFAULT_HOST
    transfers = host_transfers(workloads, where, chain) if host is not None else []
    after: dict[int, list[Transfer]] = {}
    for t in transfers:
        after.setdefault(t.after, []).append(t)

    def emit_transfers(i: int) -> None:
        for t in after.get(i, ()):
            layers.append(transfer_result(t, spec))
            kinds.append("transfer")

    emit_transfers(-1)
    host_eval = get_model("host").evaluate if host is not None else None
    for i, w in enumerate(workloads):
        conv = is_conv_fc(w.gconv)
        if where[i] == ON_HOST:
            key = ("host", host.name, host.host.threads, i)
            if cache is None or key not in cache:
                measured = host_eval(w, host)
                if cache is not None:
                    cache[key] = measured
            else:
                measured = cache[key]
            r = _host_layer(measured, spec, host)
        elif strategy == "matrix" and not conv:
            form = matrix_form(w)
            if form.materialised:
                layers.append(expansion_result(w, form, spec))
                kinds.append("im2col")
            r = info.evaluate(form.workload, spec)
            expanded[i] = needs_im2col(w.gconv)
            r = dataclasses.replace(r, details={**r.details, "matrix_form": {
                "im2col": expanded[i], "materialised": form.materialised,
                "expanded_elems": form.expanded_elems, "taps": w.gconv.R * w.gconv.S,
                "original_kind": w.gconv.kind}}, kind=w.gconv.kind)
        elif cache is not None:
            key = (spec.name, i) if conv else (spec.name, mode, i)
            if key not in cache:
                cache[key] = info.evaluate(w, spec)
            r = cache[key]
        else:
            r = info.evaluate(w, spec)
        if where[i] == ON_ACCEL:
            r = dataclasses.replace(r, details={**r.details, "on": ON_ACCEL})
        row_of.append(len(layers))
        layers.append(r)
        kinds.append("conv" if conv else "nonconv")
        emit_transfers(i)
        if progress is not None:
            progress(i + 1, len(workloads))

    det: dict[str, Any] = {**dict(details or {}), "strategy": strategy,
                           "placement": {ON_ACCEL: where.count(ON_ACCEL),
                                         ON_HOST: where.count(ON_HOST)}}
    if host is not None:
        det["host_arch"] = host.name
        det["host_threads"] = host.host.threads
        det["transfers"] = len(transfers)
        det["transfer_bits"] = sum(t.elems for t in transfers) * int(spec.compute.operand_bits)
    if strategy == "matrix":
        det["im2col_layers"] = kinds.count("im2col")
        det["im2col_expanded_elems"] = sum(r.details.get("expanded_elems", 0)
                                           for r, k in zip(layers, kinds, strict=True)
                                           if k == "im2col")
    det["row_kinds"] = kinds
    result = NetworkResult(network=network, model=spec.model, arch=spec.name,
                           clock_hz=float(spec.clock_hz), layers=tuple(layers),
                           provenance=prov, warnings=tuple(warnings), details=det)
    result = _with_shares(result)
    if fuse:
        result = fuse_chain(result, workloads, spec, where=where, chain=chain,
                            expanded=expanded, rows=row_of)
    return result


_STRATEGY_TEXT = {
    "gconv": "every GConv of the chain on the accelerator model; where the model has a "
             "nonconv_on switch (systolic, SPOTS, SCNN) the non-conv GConvs run on the array in "
             "their GConv form (nonconv_on: array), otherwise as the model runs them",
    "dedicated": "every GConv on the accelerator model, the non-conv GConvs on its dedicated "
                 "unit beside the array where it has one (nonconv_on: vector or ppu)",
    "host-fallback": "conv/FC GConvs on the accelerator, every other GConv measured on the "
                     "host, tensors crossing the boundary moved once per crossing through "
                     "the shared DRAM",
    "matrix": "non-conv GConvs with a window rewritten as an im2col tensor through DRAM and "
              "a 1x1 reducing GConv (no window reuse); element-wise, per-channel and "
              "point-wise GConvs are 1-D vector ops already; all on the accelerator model",
}


def _with_shares(result: NetworkResult) -> NetworkResult:
    kinds = result.details["row_kinds"]
    nonconv = sum(r.seconds for r, k in zip(result.layers, kinds, strict=True)
                  if k != "conv")
    total = result.seconds
    return dataclasses.replace(result, details={
        **result.details, "nonconv_seconds": nonconv,
        "nonconv_time_share": nonconv / total if total else 0.0,
        "host_seconds": sum(r.seconds for r in result.layers if r.model == "host"),
        "transfer_seconds": sum(r.seconds for r, k in zip(result.layers, kinds, strict=True)
                                if k in ("transfer", "im2col"))})


def fuse_chain(result: NetworkResult, workloads: Sequence[LayerWorkload], spec: Any, *,
               where: Sequence[str] | None = None, chain: Chain | None = None,
               expanded: Sequence[bool] | None = None,
               rows: Sequence[int] | None = None) -> NetworkResult:
    """Keep the intermediates of ``fusion_plan`` on chip: the producer's DRAM write and the
    consumer's DRAM read of each are removed (DRAM energy follows the bits). Cycles are not
    recomputed (a DRAM-bound layer would get faster: the saving shown is a lower bound on
    time). ``rows`` maps each workload to its row in ``result`` (default: one row each)."""
    spec = _load_spec(spec)
    where = list(where) if where is not None else [ON_ACCEL] * len(workloads)
    rows = list(rows) if rows is not None else list(range(len(workloads)))
    if len(rows) != len(workloads):
        raise StrategyError(f"fuse_chain: {len(rows)} rows for {len(workloads)} workloads")
    capacity, how = fusion_capacity(spec)
    bits = int(spec.compute.operand_bits)
    plan = fusion_plan(workloads, where, capacity, bits, chain, expanded)
    layers = list(result.layers)
    roles: dict[int, dict[str, float]] = {}
    for f in plan:
        roles.setdefault(rows[f.producer], {})["output"] = 1.0
        g = workloads[f.consumer].gconv
        share = 1.0
        if g.operand_kind == "tensor" and not any(
                a.level == "dram" and a.tensor == "operand"
                for a in layers[rows[f.consumer]].accesses):
            # the model counts both activation operands as "input": drop the fused one only
            share = g.input_elems / (g.input_elems + workloads[f.consumer].operand_elems)
        roles.setdefault(rows[f.consumer], {})["input"] = share
    saved = 0
    for row, rs in roles.items():
        r, s = _drop_dram(layers[row], rs)
        kept = sorted(rs)
        layers[row] = dataclasses.replace(r, details={**r.details, "fused_on_chip": kept,
                                                      "fusion_saved_dram_bits": s})
        saved += s
    before = result.level_bits("dram")
    out = dataclasses.replace(
        result, layers=tuple(layers),
        provenance={**result.provenance, "fusion": (
            f"intermediates between consecutive accelerator GConvs kept on chip when they fit "
            f"{capacity:,} B of {how} with the other kept tensors live at the same time; "
            "cycles not recomputed")},
        details={**result.details, "fusion": {
            "capacity_bytes": capacity, "capacity_from": how, "fused": len(plan),
            "tensors": [f.tensor for f in plan], "peak_bytes": _peak(plan, len(workloads)),
            "dram_bits_before": before, "dram_bits_saved": saved}})
    return out


def _peak(plan: Sequence[FusedTensor], n: int) -> int:
    load = [0] * max(n, 1)
    for f in plan:
        load[f.producer] += f.bytes
        load[f.consumer] += f.bytes
    return max(load)


def evaluate_strategies(workloads: Sequence[LayerWorkload], spec: Any,
                        strategies: str | Sequence[str], **kwargs: Any
                        ) -> dict[str, NetworkResult]:
    """``evaluate_strategy`` for each of ``strategies`` (a comma list or a sequence)."""
    cache = kwargs.pop("cache", None)
    cache = {} if cache is None else cache
    return {s: evaluate_strategy(workloads, spec, s, cache=cache, **kwargs)
            for s in parse_strategies(strategies)}


__all__ = ["DEFAULT_HOST", "DEFAULT_HOST_THREADS", "NONCONV_ON", "NONCONV_SECTIONS",
           "STRATEGIES", "FusedTensor", "MatrixForm",
           "StrategyError", "Transfer", "base_tensors", "evaluate_strategies",
           "evaluate_strategy", "expansion_result", "fuse_chain", "fusion_capacity",
           "fusion_plan", "host_transfers", "host_with_threads", "im2col_tensor", "is_conv_fc",
           "matrix_form", "matrix_gconv", "needs_im2col", "nonconv_on", "parse_strategies",
           "placement", "transfer_result", "with_nonconv_on"]
