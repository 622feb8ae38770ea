"""The stable entry points: ``lower`` and ``execute`` (re-exported from ``accelscope``)."""

from __future__ import annotations

from accelscope.workload.execute import execute
from accelscope.workload.lower import lower

__all__ = ["execute", "lower"]
