"""The registry of accelerator models: every built-in model is declared here, one line each;
``register_model`` adds another (a model of your own, see docs/models.md).

Registering a model also registers its spec class with ``accelscope.arch``, so that YAMLs
with ``model: NAME`` load as that class. ``import accelscope`` imports this module.
"""

from __future__ import annotations

from typing import Any

from accelscope.arch.spec import register_spec
from accelscope.models import cgra, eyeriss, host, ideal, scnn, systolic
from accelscope.models.contract import ModelInfo, UnknownModelError

BUILTIN: tuple[ModelInfo[Any], ...] = (
    ideal.MODEL,
    host.MODEL,
    systolic.MODEL,
    systolic.SPOTS,
    scnn.MODEL,
    eyeriss.MODEL,
    cgra.MODEL,
)

_REGISTRY: dict[str, ModelInfo[Any]] = {}


def register_model(info: ModelInfo[Any]) -> ModelInfo[Any]:
    """Register ``info`` under ``info.name`` (= ``ArchSpec.model`` of its specs)."""
    old = _REGISTRY.get(info.name)
    if old is not None and old is not info:
        raise ValueError(f"model {info.name!r} is registered twice")
    register_spec(info.name)(info.spec_class)
    _REGISTRY[info.name] = info
    return info


def get_model(name: str) -> ModelInfo[Any]:
    if name not in _REGISTRY:
        raise UnknownModelError(f"no accelerator model named {name!r}; registered: "
                                f"{', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def model_names() -> list[str]:
    return sorted(_REGISTRY)


for _info in BUILTIN:
    register_model(_info)
