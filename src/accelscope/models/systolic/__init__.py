"""The systolic engine (output-, weight- and input-stationary GEMM timing, exact against
SCALE-Sim: ``core``), SCALE-Sim's memory system (``memory``), the dense systolic model
(``model``) and SPOTS as a configuration of the engine (``spots``)."""

from accelscope.models.systolic.model import MODEL
from accelscope.models.systolic.spots import MODEL as SPOTS

__all__ = ["MODEL", "SPOTS"]
