"""The accelerator-model contract: what a model sees (``LayerWorkload``), what it returns
(``LayerResult``), how it refuses (``UnsupportedLayerError``), and what it declares about itself
when it registers (``ModelInfo``).

A model is a pure function ``evaluate(layer, spec) -> LayerResult`` of one GConv with its real
operand data or density statistics and an ``ArchSpec`` of its own spec class. It raises
``UnsupportedLayerError`` for a GConv it cannot run, naming the GConv and the reason; it never
falls back silently. Everything the passes after evaluation may ask of a model (where its
non-conv GConvs run, whether it codes feature maps itself, its area) is a field of its
``ModelInfo``; what they need of one layer's evaluation is a typed field of ``LayerResult``.
No module outside ``models/`` tests a model's name or reads its spec section.

This module imports nothing of the models; ``models.registry`` imports the models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import torch

from accelscope.arch.spec import ArchSpec
from accelscope.energy.area import AreaReport
from accelscope.errors import AccelscopeError
from accelscope.results import LayerResult
from accelscope.workload.gconv import GConv

STRATEGIES = ("gconv", "host-fallback", "matrix", "dedicated")
"""Execution strategies of a whole chain (``passes.strategies``)."""


class UnsupportedLayerError(AccelscopeError):
    """An accelerator model cannot run a GConv."""

    def __init__(self, model: str, gconv: GConv, reason: str):
        self.model, self.gconv, self.reason = model, gconv, reason
        super().__init__(f"model {model!r} cannot run GConv {gconv.name!r} ({gconv.kind}, "
                         f"{gconv.origin_op} at {gconv.module_path}): {reason}")

    def __reduce__(self) -> tuple[type[UnsupportedLayerError], tuple[str, GConv, str]]:
        # picklable across process pools (the message is rebuilt)
        return (type(self), (self.model, self.gconv, self.reason))


class UnknownModelError(AccelscopeError):
    """No accelerator model is registered under a name."""


@dataclass(frozen=True)
class LayerWorkload:
    """What a model sees of one GConv.

    In ``actual`` mode the tensors hold the real values (input in canonical (N, G*C, H, W)
    form, the weight or second activation operand, the output before the next layer); in
    ``statistical`` mode they are ``None`` and only the densities are known.
    """

    gconv: GConv
    network: str
    mode: Literal["actual", "statistical"] = "actual"
    input: torch.Tensor | None = None
    operand: torch.Tensor | None = None
    output: torch.Tensor | None = None
    params: Mapping[str, torch.Tensor] = field(default_factory=dict)
    input_density: float = 1.0
    operand_density: float = 1.0
    output_density: float = 1.0
    input_is_network_input: bool = False
    index: int = 0
    operand_elems: int = 0  # elements of a second activation operand (broadcast ones are small)

    @property
    def name(self) -> str:
        return self.gconv.name


S = TypeVar("S", bound=ArchSpec)
S_contra = TypeVar("S_contra", bound=ArchSpec, contravariant=True)


class Evaluate(Protocol[S_contra]):
    """``evaluate(layer, spec) -> LayerResult`` of a model whose spec class is ``S``."""

    def __call__(self, layer: LayerWorkload, spec: S_contra, /) -> LayerResult: ...


@dataclass(frozen=True)
class NonconvSwitch:
    """A spec switch placing the non-conv GConvs (pooling, element-wise, per-channel, ...)
    either on the array in their GConv form or on a dedicated unit beside it: the field
    ``nonconv_on`` of the spec section ``section``, valued ``"array"`` or ``unit``."""

    section: str
    unit: str

    def current(self, spec: ArchSpec) -> str:
        return str(getattr(spec, self.section).nonconv_on)

    def set(self, spec: ArchSpec, where: str) -> ArchSpec:
        """``spec`` with ``nonconv_on`` set to ``where`` (``array``, ``dedicated`` for the
        unit, or the unit's name)."""
        where = self.unit if where == "dedicated" else where
        if where not in ("array", self.unit):
            raise ValueError(f"{spec.name}: {self.section}.nonconv_on is 'array' or "
                             f"{self.unit!r}, not {where!r}")
        params = getattr(spec, self.section)
        if params.nonconv_on == where:
            return spec
        return spec.model_copy(update={self.section: params.model_copy(
            update={"nonconv_on": where})})


@dataclass(frozen=True)
class ModelInfo(Generic[S]):
    """A registered accelerator model and everything the rest of the code may ask of it."""

    name: str
    """``ArchSpec.model`` of the specs it evaluates."""
    spec_class: type[S]
    """The spec class YAMLs with ``model: NAME`` load as."""
    evaluate: Evaluate[S]
    description: str
    uses_data: bool = False
    """Whether actual-mode tensors change its answer."""
    measured: bool = False
    """Timings come from running hardware (not deterministic)."""
    counts_accesses: bool = True
    """Reports DRAM traffic (a measured model cannot)."""
    nonconv: NonconvSwitch | None = None
    """Where its non-conv GConvs run, when the spec can choose; None: the model decides."""
    fmap_coding: Callable[[S], str | None] | None = None
    """Why a spec already codes feature maps in DRAM itself (RLC, compressed formats), in
    words, or None when it stores them dense; another codec would code them twice."""
    area: Callable[[S], AreaReport] | None = None
    """Area of a spec per component in mm^2 with the constants used
    (``energy.area.AreaReport``, a mapping of the components and ``total``); None: the model
    has no area, and ``no_area`` says why."""
    no_area: str = ""
    """Why ``area`` is None (e.g. a measured machine)."""
    strategies: tuple[str, ...] = STRATEGIES
    """Execution strategies it supports."""

    def own_fmap_coding(self, spec: S) -> str | None:
        return self.fmap_coding(spec) if self.fmap_coding is not None else None


Area = Callable[[Any], AreaReport]
