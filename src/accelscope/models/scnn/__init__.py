"""SCNN and its dense twins DCNN / DCNN-opt: the PT-IS-CP dataflow (``model``) with its
tiling, stall and queue counters (``core``)."""

from accelscope.models.scnn.model import MODEL

__all__ = ["MODEL"]
