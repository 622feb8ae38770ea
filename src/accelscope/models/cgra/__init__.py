"""OpenEdgeCGRA: instruction-level simulator (``sim``), ISA (``isa``), the four convolution
mappings of Carpentieri et al. (``mappings``), their pricing with the host CPU (``cost``), the
layer study (``study``) and the ``cgra`` accelerator model over GConvs (``model``)."""

from accelscope.models.cgra.layout import CgraMemoryError, ConvShape
from accelscope.models.cgra.model import MODEL
from accelscope.models.cgra.spec import CgraSpec

__all__ = ["MODEL", "CgraMemoryError", "CgraSpec", "ConvShape"]
