"""The accelerator-model interface: ``evaluate(layer, spec) -> LayerResult``, a registry by
name, and the conformance checks every registered model must pass.

A model is a pure function of a ``LayerWorkload`` (one GConv with its real operand data or
density statistics) and an ``ArchSpec``. It raises ``UnsupportedLayerError`` for a GConv it
cannot run, naming the GConv and the reason; it never falls back silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from accelscope.errors import AccelscopeError
from accelscope.results import LayerResult
from accelscope.workload.gconv import GConv


class UnsupportedLayerError(AccelscopeError):
    """An accelerator model cannot run a GConv."""

    def __init__(self, model: str, gconv: GConv, reason: str):
        self.model, self.gconv, self.reason = model, gconv, reason
        super().__init__(f"model {model!r} cannot run GConv {gconv.name!r} ({gconv.kind}, "
                         f"{gconv.origin_op} at {gconv.module_path}): {reason}")


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


Evaluate = Callable[[LayerWorkload, Any], LayerResult]


@dataclass(frozen=True)
class ModelInfo:
    """A registered accelerator model."""

    name: str
    evaluate: Evaluate
    description: str
    uses_data: bool  # whether actual-mode tensors change its answer
    measured: bool = False  # timings come from running hardware (not deterministic)
    counts_accesses: bool = True  # reports DRAM traffic (a measured model cannot)


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(name: str, *, description: str, uses_data: bool = False,
                   measured: bool = False, counts_accesses: bool = True):
    """Decorator registering ``evaluate(layer, spec)`` under ``name`` (= ``ArchSpec.model``)."""

    def deco(fn: Evaluate) -> Evaluate:
        if name in _REGISTRY and _REGISTRY[name].evaluate is not fn:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelInfo(name, fn, description, uses_data, measured,
                                    counts_accesses)
        return fn

    return deco


def _load_builtin_models() -> None:
    # Importing the modules registers them.
    from accelscope.models import eyeriss, host, ideal, scnn, spots, systolic  # noqa: F401
    from accelscope.models.cgra import model as _cgra  # noqa: F401


def get_model(name: str) -> ModelInfo:
    _load_builtin_models()
    if name not in _REGISTRY:
        raise UnknownModelError(f"no accelerator model named {name!r}; registered: "
                                f"{', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def model_names() -> list[str]:
    _load_builtin_models()
    return sorted(_REGISTRY)


def peak_macs_per_cycle(spec: Any) -> int:
    return int(spec.compute.macs_per_cycle)
