"""accelscope: lower whole CNNs into a chain of general convolutions (GConv) and evaluate them
on models of CNN accelerators from the literature.

Stable API (docs/api.md)::

    r = accelscope.evaluate("resnet18", "spots", prune="0.7")   # a NetworkResult
    c = accelscope.compare("resnet18", ["ideal", "spots"])        # a Comparison
    net = accelscope.prepare("resnet18")      # lowered and run once, for many evaluations
    spec = accelscope.arch.override("spots", {"memory.ifm_sram.size_bytes": 65536})
    chain = accelscope.lower(module_or_onnx_path, example_input)
    y = accelscope.execute(chain, x)                        # or keep_intermediates=True
    model = accelscope.zoo.get("resnet50")
    s = accelscope.sweep("space.yaml", out="out/sw")          # a design-space sweep
    df = accelscope.open_store("out/sw").to_dataframe()     # its results store
    front = accelscope.pareto("out/sw", "latency,energy")   # the Pareto front per network
    page = accelscope.report("out/tiny-spots", "report.html")  # one self-contained HTML page
"""

import sys
from importlib import metadata as _metadata
from types import ModuleType
from typing import Any

import accelscope.models.registry
import accelscope.report  # noqa: F401  (made callable below)
from accelscope import arch
from accelscope.api import (
    Comparison,
    Store,
    SweepSummary,
    compare,
    evaluate,
    execute,
    load_arch,
    lower,
    open_store,
    pareto,
    prepare,
    sweep,
)
from accelscope.api import report as _report
from accelscope.arch import ArchError, ArchSpec
from accelscope.errors import (
    AccelscopeError,
    ChainCheckError,
    InputFileError,
    LoweringError,
    ShapeError,
    UnsupportedOpError,
    ZooError,
)
from accelscope.pipeline import PreparedNetwork
from accelscope.results import Access, LayerResult, NetworkResult, ResultFormatError
from accelscope.workload.gconv import Chain, GConv, PostOp, TensorInfo, View

__version__ = _metadata.version("accelscope")  # set in one place: pyproject.toml


class _CallableReportPackage(ModuleType):
    """``accelscope.report`` is the package of tables, plots and the HTML page, and, called,
    the HTML report (``accelscope.api.report``, docs/report.md): the same module object
    either way, so ``accelscope.report.plots`` and ``accelscope.report(result)`` both work
    and nothing stands in for the package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _report(*args, **kwargs)


report = sys.modules["accelscope.report"]
report.__class__ = _CallableReportPackage


def __getattr__(name: str) -> ModuleType:
    # ``accelscope.zoo`` imports torchvision: load it on first use, not at ``import accelscope``.
    if name == "zoo":
        import importlib

        return importlib.import_module("accelscope.zoo")
    raise AttributeError(f"module 'accelscope' has no attribute {name!r}")

__all__ = [
    "AccelscopeError",
    "Access",
    "ArchError",
    "ArchSpec",
    "Chain",
    "ChainCheckError",
    "Comparison",
    "GConv",
    "InputFileError",
    "LayerResult",
    "LoweringError",
    "NetworkResult",
    "PostOp",
    "PreparedNetwork",
    "ResultFormatError",
    "ShapeError",
    "Store",
    "SweepSummary",
    "TensorInfo",
    "UnsupportedOpError",
    "View",
    "ZooError",
    "arch",
    "compare",
    "evaluate",
    "execute",
    "load_arch",
    "lower",
    "open_store",
    "pareto",
    "prepare",
    "report",
    "sweep",
    "zoo",
]
