"""accelscope: lower whole CNNs into a chain of general convolutions (GConv) and evaluate them
on models of CNN accelerators from the literature.

Stable API::

    chain = accelscope.lower(module_or_onnx_path, example_input)
    y = accelscope.execute(chain, x)                        # or keep_intermediates=True
    model = accelscope.zoo.get("resnet50")
"""

from importlib import metadata as _metadata
from types import ModuleType

import accelscope.models.registry  # noqa: F401  (registers the built-in models and spec classes)
from accelscope.api import execute, lower
from accelscope.errors import (
    AccelscopeError,
    ChainCheckError,
    InputFileError,
    LoweringError,
    ShapeError,
    UnsupportedOpError,
    ZooError,
)
from accelscope.workload.gconv import Chain, GConv, PostOp, TensorInfo, View

__version__ = _metadata.version("accelscope")  # set in one place: pyproject.toml


def __getattr__(name: str) -> ModuleType:
    # ``accelscope.zoo`` imports torchvision: load it on first use, not at ``import accelscope``.
    if name == "zoo":
        import importlib

        return importlib.import_module("accelscope.zoo")
    raise AttributeError(f"module 'accelscope' has no attribute {name!r}")

__all__ = [
    "AccelscopeError",
    "Chain",
    "ChainCheckError",
    "GConv",
    "InputFileError",
    "LoweringError",
    "PostOp",
    "ShapeError",
    "TensorInfo",
    "UnsupportedOpError",
    "View",
    "ZooError",
    "execute",
    "lower",
    "zoo",
]
