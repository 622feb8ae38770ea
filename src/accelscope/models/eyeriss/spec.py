"""The Eyeriss spec: row-stationary parameters, and the checks of a spec that runs one of the
ISCA 2016 comparison dataflows instead."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from accelscope.arch.spec import ArchSpec, SpecSection


class EyerissParams(SpecSection):
    """Row-stationary array parameters (JSSC 2017 §III-IV)."""

    dataflow: Literal["rs", "ws", "os_a", "os_b", "os_c", "nlr"] = Field(
        description="Dataflow: 'rs' (row stationary); the ISCA 2016 comparison dataflows "
                    "'ws' (weight stationary), 'os_a' / 'os_b' / 'os_c' (output stationary "
                    "SOC-MOP / MOC-MOP / MOC-SOP) and 'nlr' (no local reuse), modelled in "
                    "models/eyeriss/dataflows.py [choice]")
    ifmap_spad_words: int = Field(ge=0, description="Input-activation spad per PE (rs: >= 1; "
                                                    "os_*: input FIFO words) [words]")
    filter_spad_words: int = Field(ge=0, description="Filter spad per PE (rs: >= 1; ws: the "
                                                     "weights a PE holds) [words]")
    psum_spad_words: int = Field(ge=0, description="Partial-sum spad per PE (rs, os_*: >= 1) "
                                                   "[words]")
    glb_bank_bytes: int = Field(
        ge=1, description="Size of one GLB bank; a bank holds either inputs or partial sums "
                          "for a whole layer [bytes]")
    glb_filter_bytes: int = Field(
        ge=0, description="Part of the GLB that holds filters (the rest is banks for inputs "
                          "and partial sums); one pass's filters must fit [bytes]")
    ifmap_bus_words: int = Field(ge=1, description="Input words the GLB multicasts to the "
                                                   "array per cycle (16-b GIN: 1) [words/cycle]")
    filter_bus_words: int = Field(ge=1, description="Filter words delivered to the spads per "
                                                    "cycle (64-b GIN: 4) [words/cycle]")
    psum_bus_words: int = Field(ge=1, description="Partial sums moved between GLB and array "
                                                  "per cycle, each direction (64-b GIN/GON: "
                                                  "4) [words/cycle]")
    zero_gating: bool = Field(description="Gate the filter-spad read and the MAC of a zero "
                                          "input (energy only, no cycles) [flag]")
    rlc: bool = Field(description="Run-length code feature maps in DRAM (5-bit run, 16-bit "
                                  "level, 3 pairs per 64-bit word), except the network input "
                                  "[flag]")
    overlap_filter_dram: bool = Field(
        description="Filters stream from DRAM during processing (the filter GLB preloads the "
                    "next pass); input and output feature-map transfers never overlap "
                    "processing [flag]")
    strip_mining: Literal["when_needed", "search"] = Field(
        description="'when_needed': a PE set spans all E output rows unless that does not fit "
                    "the array, then the strip height is searched (JSSC Sec. IV-A); "
                    "'search': the strip height is always a search parameter [choice]")
    objective: Literal["energy", "delay"] = Field(
        description="What the mapping search minimises first (the other breaks ties) "
                    "[choice]")
    static_power_w: float = Field(ge=0, description="Power drawn regardless of activity, "
                                                    "added as energy over the layer's time [W]")
    static_power_source: str = Field(min_length=1, description="Where static_power_w comes "
                                                               "from [text]")


class EyerissSpec(ArchSpec):
    """Eyeriss: row-stationary PE array, spads, GLB, RLC DRAM interface."""

    model: Literal["eyeriss"] = Field(description="Always 'eyeriss' for this spec class "
                                                  "[name]")
    eyeriss: EyerissParams = Field(description="Row-stationary parameters [section]")

    @model_validator(mode="after")
    def _consistent(self) -> EyerissSpec:
        if self.eyeriss.dataflow != "rs":  # the ISCA 2016 comparison dataflows
            check_dataflow_spec(self)
            return self
        for f in ("ifmap_spad_words", "filter_spad_words", "psum_spad_words"):
            if getattr(self.eyeriss, f) < 1:
                raise ValueError(f"eyeriss.{f} is 0; the row-stationary dataflow needs at "
                                 "least 1 word")
        if len(self.compute.array) != 2:
            raise ValueError(f"compute.array must be [rows, cols], got "
                             f"{list(self.compute.array)}")
        if self.compute.macs_per_pe != 1:
            raise ValueError("compute.macs_per_pe must be 1: an Eyeriss PE issues one MAC "
                             "per cycle")
        names = [m.name for m in self.memory]
        if names != ["spad", "glb"]:
            raise ValueError(f"memory must list the levels 'spad' then 'glb', got {names}")
        spad, glb = self.memory
        words = (self.eyeriss.ifmap_spad_words + self.eyeriss.filter_spad_words
                 + self.eyeriss.psum_spad_words)
        want = words * self.compute.operand_bits // 8 * math.prod(self.compute.array)
        if spad.size_bytes != want:
            raise ValueError(f"memory.spad.size_bytes is {spad.size_bytes} but the spads "
                             f"({words} words of {self.compute.operand_bits} bits per PE, "
                             f"{math.prod(self.compute.array)} PEs) take {want}; make them "
                             "agree")
        if self.eyeriss.glb_filter_bytes >= glb.size_bytes:
            raise ValueError(f"eyeriss.glb_filter_bytes {self.eyeriss.glb_filter_bytes} "
                             f"leaves no GLB for feature maps (glb is {glb.size_bytes} B)")
        return self

    @property
    def fmap_banks(self) -> int:
        return (self.memory[1].size_bytes - self.eyeriss.glb_filter_bytes) \
            // self.eyeriss.glb_bank_bytes


def rf_words(spec: EyerissSpec) -> int:
    ep = spec.eyeriss
    return ep.ifmap_spad_words + ep.filter_spad_words + ep.psum_spad_words


def check_dataflow_spec(spec: EyerissSpec) -> None:
    """Raise ``ValueError`` (naming the field and the fix) when an Eyeriss spec with a
    non-RS dataflow is inconsistent."""
    ep, c = spec.eyeriss, spec.compute
    df = ep.dataflow
    if len(c.array) != 2:
        raise ValueError(f"compute.array must be [rows, cols], got {list(c.array)}")
    if c.macs_per_pe != 1:
        raise ValueError("compute.macs_per_pe must be 1: a PE issues one MAC per cycle")
    need = {"ws": ("filter_spad_words",), "os_a": ("psum_spad_words",),
            "os_b": ("psum_spad_words",), "os_c": ("psum_spad_words",), "nlr": ()}[df]
    for f in need:
        if getattr(ep, f) < 1:
            raise ValueError(f"eyeriss.{f} is 0 but dataflow {df!r} keeps that operand in the "
                             "PE's register file: give it at least 1 word")
    if df == "ws" and (ep.ifmap_spad_words or ep.psum_spad_words):
        raise ValueError("eyeriss.ifmap_spad_words and eyeriss.psum_spad_words must be 0 for "
                         "dataflow 'ws' (its RF holds weights only); move those words to "
                         "filter_spad_words or to the GLB")
    if df in ("os_a", "os_b", "os_c") and ep.filter_spad_words:
        raise ValueError(f"eyeriss.filter_spad_words must be 0 for dataflow {df!r} (its RF "
                         "holds the partial sum and input FIFOs); move the words to the GLB")
    if df == "nlr" and rf_words(spec):
        raise ValueError("eyeriss.ifmap_spad_words, filter_spad_words and psum_spad_words "
                         "must all be 0 for dataflow 'nlr' (no local reuse: no RF)")
    names = [m.name for m in spec.memory]
    words = rf_words(spec)
    if words:
        if names != ["spad", "glb"]:
            raise ValueError(f"memory must list the levels 'spad' then 'glb', got {names}")
        want = words * c.operand_bits // 8 * math.prod(c.array)
        if spec.memory[0].size_bytes != want:
            raise ValueError(f"memory[0].size_bytes (spad) is {spec.memory[0].size_bytes} but "
                             f"{words} RF words of {c.operand_bits} bits in "
                             f"{math.prod(c.array)} PEs take {want}; make them agree")
    elif names != ["glb"]:
        raise ValueError(f"memory must list only the level 'glb' for dataflow {df!r} (no RF), "
                         f"got {names}")
    glb = spec.memory[-1]
    if ep.glb_filter_bytes != 0:
        raise ValueError(f"eyeriss.glb_filter_bytes must be 0 for dataflow {df!r}: its GLB is "
                         "one buffer shared by inputs, weights and partial sums")
    if glb.size_bytes < ep.glb_bank_bytes:
        raise ValueError(f"memory[{len(names) - 1}].size_bytes (glb) {glb.size_bytes} is "
                         f"smaller than one bank (eyeriss.glb_bank_bytes "
                         f"{ep.glb_bank_bytes})")
    for f, why in (("zero_gating", "zero gating"), ("rlc", "run-length coding")):
        if getattr(ep, f):
            raise ValueError(f"eyeriss.{f} must be false for dataflow {df!r}: {why} is "
                             "modelled for 'rs' only")
    if ep.strip_mining != "search":
        raise ValueError(f"eyeriss.strip_mining must be 'search' for dataflow {df!r}: its "
                         "strip height is always a search parameter")


# -- search spaces -------------------------------------------------------------------------------
