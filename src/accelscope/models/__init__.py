"""Accelerator models: each registers ``evaluate(layer, spec) -> LayerResult`` by name."""

from accelscope.models.base import (
    LayerWorkload,
    ModelInfo,
    UnsupportedLayerError,
    get_model,
    model_names,
    register_model,
)

__all__ = ["LayerWorkload", "ModelInfo", "UnsupportedLayerError", "get_model", "model_names",
           "register_model"]
