"""Eyeriss: the row-stationary model (``model``) and the ISCA 2016 dataflow comparison
(``dataflows``: WS, OS A/B/C, NLR at equal storage area)."""

from accelscope.models.eyeriss.model import MODEL

__all__ = ["MODEL"]
