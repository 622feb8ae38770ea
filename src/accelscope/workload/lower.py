"""One entry point for the front ends: ``lower`` an ``nn.Module``, a zoo model or an ONNX file
into a checked GConv ``Chain``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import torch

from accelscope.errors import LoweringError
from accelscope.workload.gconv import Chain


def lower(model: Any, example_input: torch.Tensor | Sequence[torch.Tensor] | None = None, *,
          input_shape: Sequence[int] | None = None, name: str | None = None,
          fuse: bool = True, dtype: torch.dtype | None = None) -> Chain:
    """Lower a network into a checked GConv ``Chain``.

    ``model`` is an ``nn.Module`` (traced with torch.fx and run on ``example_input``), a
    ``ZooModel`` from ``accelscope.zoo.get``, a path to an ``.onnx`` file or an
    ``onnx.ModelProto``. ``input_shape`` may replace ``example_input`` (a seeded random input
    of that shape is used). ``fuse=False`` keeps every point-wise op as its own GConv.
    """
    zoo = sys.modules.get("accelscope.workload.zoo")  # a ZooModel implies it is loaded
    if zoo is not None and isinstance(model, zoo.ZooModel):
        name = name or model.name
        if example_input is None and input_shape is None:
            example_input = model.example_input()
        model = model.module
    if isinstance(model, (str, os.PathLike)) or type(model).__name__ == "ModelProto":
        from accelscope.workload.lower_onnx import lower_onnx

        shape = input_shape
        if shape is None and isinstance(example_input, torch.Tensor):
            shape = tuple(example_input.shape)
        return lower_onnx(model, shape, name=name, fuse_ops=fuse)
    if isinstance(model, torch.nn.Module):
        from accelscope.workload.lower_torch import lower_module

        if example_input is None:
            if input_shape is None:
                raise LoweringError("lowering an nn.Module needs example_input (a tensor of "
                                    "the input shape) or input_shape=(N, C, H, W)")
            gen = torch.Generator().manual_seed(0)
            example_input = torch.randn(tuple(input_shape), generator=gen)
        return lower_module(model, example_input, name=name, fuse_ops=fuse, dtype=dtype)
    raise LoweringError(f"cannot lower a {type(model).__name__}: pass an nn.Module, a zoo "
                        "model, or the path of an .onnx file")
