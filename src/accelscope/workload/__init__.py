"""Workload: the GConv IR, the front ends that lower networks into it, and its executor."""

from accelscope.workload.gconv import Chain, GConv, PostOp, TensorInfo, View

__all__ = ["Chain", "GConv", "PostOp", "TensorInfo", "View"]
