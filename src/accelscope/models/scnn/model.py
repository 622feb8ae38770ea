"""SCNN: planar-tiled, input-stationary, Cartesian-product (PT-IS-CP) sparse CNN accelerator,
and its dense twins DCNN and DCNN-opt (the same model with flags from the spec).

Reference: Parashar, Rhu, Mukkara, Puglielli, Venkatesan, Khailany, Emer, Keckler, Dally,
"SCNN: An Accelerator for Compressed-sparse Convolutional Neural Networks", ISCA 2017
(arXiv 1708.04485). What the paper fixes and what we assumed is in ``docs/scnn.md``.

The package: ``spec`` (parameters and area), ``counts`` (what the dataflow does on one GConv),
``core`` (the tiling, step and conflict machinery), ``schedule`` (the schedule executed
numerically, for tests), and this module (time, accesses and energy of a layer).

Dataflow of a convolution: the input plane is
cut into one ``Wt x Ht`` tile per PE (all input channels); output channels are processed in
groups of ``Kc`` sized to one half of the double-buffered accumulator; for every group and
input channel, each PE multiplies every vector of ``I`` activation entries it holds by every
vector of ``F`` weight entries of the group (Cartesian product, ``ceil(w/F) * ceil(a/I)``
multiplier cycles), scattering the ``F*I`` products through a crossbar into ``A`` banks; a
cycle whose products collide in a bank stalls the PE (bank conflicts). The PEs meet at a
barrier after each output group; the post-processing unit (PPU) then exchanges output halos
with the neighbours, applies the activation and compresses the group into the OARAM while the
other accumulator half takes the next group. FC layers spread output channels over the PEs
and broadcast the input: one activation meets ``F`` weights per cycle (25 % of the array's
peak, as the paper states). Pooling, element-wise and per-channel layers run in the PPUs
(``nonconv_on: ppu``) or on the array in their GConv form (``nonconv_on: array``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import cast

import torch

from accelscope.energy import NormalizedTableError, Pricing, dram_accesses
from accelscope.models.array_form import array_form, broadcast_shape, relabel
from accelscope.models.common import spec_area, spec_provenance, useful_macs
from accelscope.models.contract import (
    LayerWorkload,
    ModelInfo,
    NonconvSwitch,
    UnsupportedLayerError,
)
from accelscope.models.scnn.counts import conv_counts, fc_counts, ppu_counts, route
from accelscope.models.scnn.schedule import execute_schedule
from accelscope.models.scnn.spec import ScnnSpec, area, area_mm2
from accelscope.results import Access, LayerResult


# -- the model -----------------------------------------------------------------------------------
def _level_pj(spec: ScnnSpec, pricing: Pricing, name: str, read_bits: float,
              write_bits: float, size_bytes: int | None = None,
              word_bits: int | None = None) -> float:
    """Energy of a level's reads and writes. SCNN's SRAMs are private to each PE (``banks``
    = PEs), so the SRAM model is taken at one PE's slice, or at the ``size_bytes`` given
    (one accumulator bank)."""
    m = spec.level(name)
    if size_bytes is None:
        size, scope = m.size_bytes // m.banks, "one PE's slice"
    else:
        size, scope = size_bytes, "one bank of one PE"
    return pricing.level_pj(m, read_bits, write_bits, size_bytes=size, word_bits=word_bits,
                            scope=scope)


def _weight(layer: LayerWorkload, name: str) -> torch.Tensor:
    g = layer.gconv
    if layer.operand is not None:
        return layer.operand
    if g.operand in layer.params:
        return layer.params[cast(str, g.operand)]
    raise UnsupportedLayerError(name, g, "the weights are needed (SCNN counts the real "
                                "non-zero weights); give the layer's params")


def evaluate(layer: LayerWorkload, spec: ScnnSpec) -> LayerResult:
    g = layer.gconv
    if not isinstance(spec, ScnnSpec):
        raise UnsupportedLayerError("scnn", g, "the spec is not an SCNN spec (model: scnn)")
    if spec.scnn.nonconv_on == "array" and route(g) == "ppu":
        return _on_array(layer, spec)
    return _evaluate(layer, spec, route(g))


def _full_map_product(layer: LayerWorkload) -> bool:
    """An element-wise multiply whose second operand varies over the pixels (LRN's square,
    a softmax divide): neither operand is a weight the array could broadcast."""
    g = layer.gconv
    if g.map_op != "mul" or g.operand_kind != "tensor":
        return False

    shape = broadcast_shape(layer)
    return not (shape[2] == shape[3] == 1 and shape[1] == g.G)


def _on_array(layer: LayerWorkload, spec: ScnnSpec) -> LayerResult:
    """A non-conv GConv on the Cartesian-product array in its GConv form (``nonconv_on:
    array``): the multiply-and-sum GConv of ``models.systolic.array_form`` counted by the
    same PT-IS-CP (or FC) machinery as a convolution: planar tiles, ``ceil(w/F) *
    ceil(a/I)`` steps, bank conflicts, barrier, halos, PPU drain, compressed traffic. The
    accumulator applies the GConv's own reduce (a compare-and-write for max); a unit weight
    bypasses the multiplier (priced as no multiply)."""

    g = layer.gconv
    if _full_map_product(layer):
        # per-element weights cannot be broadcast from the weight FIFO to a PE's tile: the
        # systolic form (one 1x1 GConv per output) would put every output in its own group
        # on a 1x1 plane, one PE of 64; the PPU does it at its own rate instead
        r = _evaluate(layer, spec, "ppu")
        why = ("element-wise multiply of two full maps has no GConv form on the "
               "Cartesian-product array (neither operand is a weight the FIFO can broadcast to "
               "the PE tiles); it ran in the PPUs")
        return dataclasses.replace(r, warnings=(*r.warnings, why),
                                   details={**r.details, "unit": "ppu (no array form)"},
                                   provenance={**r.provenance, "array_form": why})
    form, how = array_form(layer)
    if g.reduce_op == "max" and spec.scnn.skip_zeros:
        x = form.input
        if x is not None and bool((x < 0).any()):
            # a skipped zero may be a window's maximum when other values are negative: the
            # stream stores every element (a zero is a value entry), so nothing is skipped
            form = dataclasses.replace(form, input=torch.where(x == 0, torch.ones_like(x), x))
            how += "; negative inputs: zeros stored as entries, no activation skipped"
        elif x is None:
            how += "; statistical mode: the input is taken as non-negative (a ReLU output)"
        else:
            how += "; non-negative input: a window's maximum is among its non-zeros or 0"
    path = route(form.gconv, per_channel=True)
    if path == "ppu":
        raise UnsupportedLayerError("scnn", g, f"no array form ({how}); run it with "
                                    "scnn.nonconv_on: ppu")
    r = _evaluate(form, spec, path)
    energy = dict(r.energy_pj)
    prov = {}
    if g.map_op != "mul":
        energy["multiplier"] = 0.0
        prov["energy.ops"] = (r.provenance.get("energy.ops", "") + f"; map '{g.map_op}' with "
                              "unit weights: the multiplier is bypassed (no int_mult energy), "
                              f"the accumulator's add prices the '{g.reduce_op}' reduce")
    return relabel(r, layer, form, how, energy, "the Cartesian-product array", prov)


def _materialise_padding(layer: LayerWorkload) -> LayerWorkload:
    """The layer on its padded input (reflect, replicate or a non-zero constant padding
    written out, zero insertion included), unpadded: what SCNN runs when its tiles cannot
    leave the padding implicit."""
    from accelscope.workload.execute import prepare_input

    g = layer.gconv
    pt, pl, pb, pr = g.padding
    h = (g.H - 1) * g.input_dilation[0] + 1 + pt + pb
    w = (g.W - 1) * g.input_dilation[1] + 1 + pl + pr
    x = prepare_input(layer.input, g) if layer.input is not None else None
    gf = dataclasses.replace(g, H=h, W=w, padding=(0, 0, 0, 0), pad_mode="zeros",
                             pad_value=0.0, input_dilation=(1, 1), mean_pad=(0, 0, 0, 0))
    return dataclasses.replace(layer, gconv=gf, input=x)


def _evaluate(layer: LayerWorkload, spec: ScnnSpec, path: str) -> LayerResult:
    g = layer.gconv
    p, c = spec.scnn, spec.compute
    try:
        pricing = Pricing.of(spec)
    except NormalizedTableError as exc:
        raise UnsupportedLayerError("scnn", g, str(exc)) from None
    prov = spec_provenance(spec)
    bits = int(c.operand_bits)
    padded = ""
    if path != "ppu" and any(g.padding) and (g.pad_mode != "zeros" or g.pad_value != 0):
        layer, padded = _materialise_padding(layer), (
            f"{g.pad_mode} padding (value {g.pad_value}) {tuple(g.padding)} materialised: "
            "SCNN's compressed tiles hold no implicit padded values other than zeros, so the "
            "producer writes the padded map (its border entries stored, moved and multiplied "
            "like any activation) and the layer runs unpadded on it")
        g = layer.gconv
    if path == "conv":
        try:
            counts = conv_counts(layer, spec, _weight(layer, "scnn"))
        except ValueError as exc:
            raise UnsupportedLayerError("scnn", g, str(exc)) from None
    elif path == "fc":
        counts = fc_counts(layer, spec, _weight(layer, "scnn"))
    else:
        counts = ppu_counts(layer, spec)
    warnings: list[str] = [padded] if padded else []
    if padded:
        prov["padding"] = padded
    if layer.input is None and path != "ppu":
        warnings.append("statistical mode: activation counts are expectations under i.i.d. "
                        "zeros; the barrier takes the largest expected PE time")
    if counts.details.get("iaram_overflow_pes"):
        warnings.append("input tiles exceed the IARAM: the overflow is re-read from DRAM for "
                        "each further output group")

    # -- MAC accounting -------------------------------------------------------------------------
    useful = useful_macs(layer)
    if path == "ppu":
        issued, gated = g.macs, 0
    else:
        issued = round(counts.products)
        gated = round(counts.products - counts.nz_products) if p.gate_zero_products else 0
        if layer.input is not None and useful > round(counts.nz_products):
            raise AssertionError(f"SCNN on {g.name}: {useful} useful MACs but only "
                                 f"{round(counts.nz_products)} non-zero products issued")
    useful = min(useful, issued - gated)

    # -- energy ---------------------------------------------------------------------------------
    # the multiplier and the accumulator's adder apart: a MAC is mult_pj + add_pj
    e_mult, mult_action = pricing.mult_pj()
    e_add, add_action = pricing.add_pj()
    acc_bank_bytes = spec.per_pe_bytes("accumulator") // (
        (2 if p.accumulator_double_buffered else 1) * p.accumulator_banks)
    acc_b = int(c.accumulator_bits)
    energy: dict[str, float] = {}
    if path == "ppu":
        energy["ppu"] = counts.ppu_ops * e_add
    else:
        energy["multiplier"] = (issued - gated) * e_mult
        energy["adder"] = counts.acc_updates * e_add
        # a read-modify-write per accumulated product and per halo partial sum, one read per
        # drained entry
        rmw = counts.acc_updates + counts.halo_psums
        energy["accumulator"] = _level_pj(
            spec, pricing, "accumulator", (rmw + counts.acc_drain_reads) * acc_b, rmw * acc_b,
            size_bytes=max(acc_bank_bytes, 1), word_bits=acc_b)
        if p.scatter_crossbar:
            energy["crossbar"] = counts.acc_updates * acc_b * p.crossbar_pj_per_bit
            prov["energy.crossbar"] = (f"{p.crossbar_pj_per_bit:g} pJ/bit x {acc_b}-bit "
                                       "partial sum per accumulated product (spec)")
        energy["ppu"] = (counts.ppu_ops + counts.halo_psums) * e_add
    energy["weight_fifo"] = _level_pj(spec, pricing, "weight_fifo", counts.fifo_read_bits,
                                      counts.fifo_write_bits)
    energy["iaram"] = _level_pj(spec, pricing, "iaram", counts.iaram_read_bits,
                                counts.iaram_write_bits)
    energy["oaram"] = _level_pj(spec, pricing, "oaram", 0, counts.oaram_write_bits)
    dram_total = sum(counts.dram_bits.values())
    energy["dram"] = dram_total * pricing.dram_pj_per_bit()
    prov["energy.ops"] = (f"{mult_action} per issued, non-gated product; {add_action} + "
                          f"accumulator bank read-modify-write ({acc_bank_bytes} B bank) per "
                          f"accumulated product; {add_action} per PPU operation")
    prov["memory"] = ("inter_layer=dram: every layer reads its input from and writes its output "
                      "to DRAM (assumptions item 11)" if p.inter_layer == "dram" else
                      "inter_layer=on_chip: activations stay in IARAM/OARAM between layers; "
                      "DRAM only for the network input, spilled tiles and weights")

    # -- accesses -------------------------------------------------------------------------------
    d = spec.dram
    accesses = [
        Access("iaram", "input", reads=math.ceil(counts.iaram_read_bits / bits),
               writes=math.ceil(counts.iaram_write_bits / bits),
               read_bits=round(counts.iaram_read_bits), write_bits=round(counts.iaram_write_bits)),
        Access("weight_fifo", "weight", reads=math.ceil(counts.fifo_read_bits / bits),
               writes=math.ceil(counts.fifo_write_bits / bits),
               read_bits=round(counts.fifo_read_bits), write_bits=round(counts.fifo_write_bits)),
        Access("oaram", "output", writes=math.ceil(counts.oaram_write_bits / bits),
               write_bits=round(counts.oaram_write_bits)),
    ]
    if path != "ppu":
        rmw = round(counts.acc_updates + counts.halo_psums)
        accesses.append(Access("accumulator", "output",
                               reads=rmw + round(counts.acc_drain_reads), writes=rmw,
                               read_bits=(rmw + round(counts.acc_drain_reads)) * acc_b,
                               write_bits=rmw * acc_b))
    accesses.extend(dram_accesses(
        {t: b for t, b in counts.dram_bits.items() if t != "output"},
        {t: b for t, b in counts.dram_bits.items() if t == "output"}, d.word_bits))

    # -- time -----------------------------------------------------------------------------------
    cycles = max(math.ceil(counts.cycles), 1)
    compute_cycles = cycles
    stalls = {k: round(v) for k, v in counts.stalls.items() if round(v) > 0}
    dram_cycles = math.ceil(dram_total / d.bandwidth_bits_per_cycle)
    if dram_cycles > cycles:
        stalls["dram_bandwidth"] = dram_cycles - cycles
        cycles = dram_cycles
    stalls = {k: min(v, cycles) for k, v in stalls.items()}
    area_report = spec_area(area, spec)
    details = dict(counts.details)
    parts, prov["scratchpad"] = details.pop("scratchpad", ({}, (
        "PPU layer: operands stream through the post-processing units, no accumulator or "
        "weight FIFO tile is kept (0 B)")))
    details["scratchpad"], details["scratchpad_bytes"] = parts, sum(parts.values())
    details["compute_cycles"] = compute_cycles
    details["multiplier_utilization"] = useful / (cycles * c.macs_per_cycle)
    details["multiplier_utilization_compute"] = useful / (compute_cycles * c.macs_per_cycle)
    details["area_mm2"] = area_report.details()
    prov.update(area_report.provenance)
    if path != "ppu":
        prov["bank_hash"] = ("DNNsim's SCNN hash generalised to F and A (models/scnn/core."
                             "bank_of), on the output channel inside the group and the "
                             "output row/column")
    return LayerResult(
        layer=g.name, kind=g.kind, model="scnn", arch=spec.name, clock_hz=float(spec.clock_hz),
        peak_macs_per_cycle=int(c.macs_per_cycle), cycles=cycles, macs=g.macs,
        macs_issued=issued, macs_useful=useful, macs_skipped=max(g.macs - issued, 0),
        macs_gated=gated, accesses=tuple(accesses), energy_pj=energy, stall_cycles=stalls,
        scratchpad_bytes=details.pop("scratchpad_bytes"), details=details,
        provenance={**prov, **pricing.provenance}, warnings=tuple(warnings))


def fmap_coding(spec: ScnnSpec) -> str | None:
    """SCNN stores feature maps compressed in DRAM unless ``dram_activation_format`` is
    dense."""
    f = spec.scnn.dram_activation_format
    return None if f == "dense" else f"scnn.dram_activation_format is {f!r}"


MODEL = ModelInfo(
    name="scnn", spec_class=ScnnSpec, evaluate=evaluate,
    description="SCNN (ISCA 2017): planar-tiled input-stationary "
                "Cartesian-product dataflow on compressed-sparse weights and activations, "
                "with its dense twins DCNN / DCNN-opt", uses_data=True,
    nonconv=NonconvSwitch(section='scnn', unit='ppu'),
    fmap_coding=fmap_coding, area=area,
)


__all__ = ["MODEL", "ScnnSpec", "area", "area_mm2", "evaluate", "execute_schedule", "fmap_coding",
           "route"]
