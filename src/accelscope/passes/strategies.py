"""Execution strategies for a whole GConv chain on one accelerator (GCONV Chain, issue 9).

Zhang, Chen, Ray, "GCONV Chain: Optimizing the Whole-life Cost in End-to-end CNN
Acceleration" (IEEE TC 2021, arXiv 2104.05541) contrast three ways of running the layers a
convolution accelerator was not built for. Each is a function of the per-GConv workloads and
an accelerator spec, built on the accelerator models' pure per-layer ``evaluate``:

* ``gconv``: every GConv of the chain on the accelerator. A model with a switch between its
  array and a dedicated unit for the non-conv GConvs (its ``ModelInfo.nonconv``: today the
  systolic, SPOTS and SCNN specs' ``nonconv_on``) runs them on the array in their GConv form
  (``nonconv_on: array``, ``models.array_form``); any other model as it runs them.
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

``passes.fusion.fuse_chain`` then keeps on chip each intermediate tensor between two consecutive
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
from typing import Any, cast

import torch
import torch.nn.functional as F

from accelscope.arch import ArchSpec, HostSpec, load_arch
from accelscope.models.contract import STRATEGIES, LayerWorkload
from accelscope.models.registry import get_model
from accelscope.passes.common import (
    ON_ACCEL,
    ON_HOST,
    StrategyError,
    base_tensors,
    reads,
)
from accelscope.passes.fusion import fuse_chain
from accelscope.pipeline import with_geometry
from accelscope.results import Access, LayerResult, NetworkResult
from accelscope.workload.execute import prepare_input
from accelscope.workload.gconv import Chain, GConv, PostOp

#: nonconv_on that each strategy sets where a model has the switch (``ModelInfo.nonconv``;
#: others keep the preset's); ``dedicated`` stands for the model's own unit
NONCONV_ON = {"gconv": "array", "dedicated": "dedicated"}
DEFAULT_HOST = "cpu"  #: host preset of host-fallback (the measured CPU baseline)
#: PyTorch threads of the measured host unless the caller says otherwise: on a shared machine
#: a multi-threaded PyTorch stalls whenever another process holds a core (a 3x3 max pool took
#: 12-32 ms with 2 threads against 0.2-1 ms with one, measured on the 2-core CI machine under
#: load), so one thread gives the repeatable figure; None keeps the preset's setting.
DEFAULT_HOST_THREADS = 1



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
        for t in reads(w.gconv):
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
                # from-host: the producer ran on the host, so it is a GConv (i is set)
                out.append(Transfer(b, direction, _elems(chain, workloads, b),
                                    cast(int, after)))
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
    cols = F.unfold(prepare_input(x, g), (g.R, g.S), dilation=g.dilation, stride=g.stride)
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


# -- the strategies ----------------------------------------------------------------------------
def nonconv_on(spec: ArchSpec) -> str | None:
    """Where ``spec`` runs its non-conv GConvs (``array`` or its dedicated unit, e.g.
    ``vector``, ``ppu``), or ``None`` when its model has no such switch."""
    switch = get_model(spec.model).nonconv
    return switch.current(spec) if switch is not None else None


def with_nonconv_on(spec: ArchSpec, where: str) -> ArchSpec:
    """``spec`` with its non-conv GConvs on ``where`` (``array``, ``dedicated`` for the
    model's own unit, or that unit's name); unchanged when its model has no switch."""
    switch = get_model(spec.model).nonconv
    if switch is None:
        return spec
    try:
        return switch.set(spec, where)
    except ValueError as exc:
        raise StrategyError(str(exc)) from None


def evaluate_strategy(workloads: Sequence[LayerWorkload], spec: Any, strategy: str, *,
                      chain: Chain | None = None, host_spec: Any = None,
                      host_threads: int | None = DEFAULT_HOST_THREADS, fuse: bool = False,
                      network: str | None = None, details: Mapping[str, Any] | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      cache: dict[tuple[Any, ...], LayerResult] | None = None
                      ) -> NetworkResult:
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
    spec = load_arch(spec)
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
    host: HostSpec | None = None
    if strategy == "host-fallback":
        chosen = load_arch(host_spec if host_spec is not None else DEFAULT_HOST)
        if not isinstance(chosen, HostSpec) or not get_model(chosen.model).measured:
            raise StrategyError(f"--host {chosen.name!r} is not a measured host preset (model "
                                f"{chosen.model!r}); give cpu or gpu")
        host = host_with_threads(chosen, host_threads)
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
    host_eval = get_model(host.model).evaluate if host is not None else None
    for i, w in enumerate(workloads):
        conv = is_conv_fc(w.gconv)
        if where[i] == ON_HOST:
            # only host-fallback places GConvs on the host, and it sets host above
            assert host is not None and host_eval is not None
            key: tuple[Any, ...] = ("host", host.name, host.host.threads, i)
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
        r = with_geometry(r, w.gconv)
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
                           provenance=prov,
                           warnings=(*spec.plausibility(), *warnings), details=det,
                           spec=spec.resolved())
    result = _with_shares(result)
    if fuse:
        result = fuse_chain(result, workloads, spec, where=where, chain=chain,
                            expanded=expanded, rows=row_of)
    return result


_STRATEGY_TEXT = {
    "gconv": "every GConv of the chain on the accelerator model; where the model has a "
             "nonconv_on switch (ModelInfo.nonconv) the non-conv GConvs run on the array in "
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
        "host_seconds": sum(r.seconds for r in result.layers
                            if r.details.get("on") == ON_HOST),
        "transfer_seconds": sum(r.seconds for r, k in zip(result.layers, kinds, strict=True)
                                if k in ("transfer", "im2col"))})


def evaluate_strategies(workloads: Sequence[LayerWorkload], spec: Any,
                        strategies: str | Sequence[str], **kwargs: Any
                        ) -> dict[str, NetworkResult]:
    """``evaluate_strategy`` for each of ``strategies`` (a comma list or a sequence)."""
    cache = kwargs.pop("cache", None)
    cache = {} if cache is None else cache
    return {s: evaluate_strategy(workloads, spec, s, cache=cache, **kwargs)
            for s in parse_strategies(strategies)}


__all__ = ["DEFAULT_HOST", "DEFAULT_HOST_THREADS", "NONCONV_ON", "STRATEGIES", "MatrixForm",
           "StrategyError", "Transfer", "evaluate_strategies", "evaluate_strategy",
           "expansion_result", "host_transfers", "host_with_threads", "im2col_tensor",
           "is_conv_fc", "matrix_form", "matrix_gconv", "needs_im2col", "nonconv_on",
           "parse_strategies", "placement", "transfer_result", "with_nonconv_on"]
