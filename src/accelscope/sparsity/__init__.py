"""Sparsity: weight pruning, density measurement and models, sparse encodings with exact
sizes. See docs/sparsity.md."""

from accelscope.sparsity.density import (
    NMDensity,
    UniformDensity,
    density,
    density_per_block,
    density_per_channel,
    expected_ceil_div,
    weight_matrix,
)
from accelscope.sparsity.formats import Encoded, Format, FormatError, format_names, get_format
from accelscope.sparsity.prune import (
    PruneResult,
    PruneSpec,
    PruneSpecError,
    parse_prune_spec,
    prune,
    prune_chain,
)

__all__ = [
    "Encoded", "Format", "FormatError", "NMDensity", "PruneResult", "PruneSpec",
    "PruneSpecError", "UniformDensity", "density", "density_per_block", "density_per_channel",
    "expected_ceil_div", "format_names", "get_format", "parse_prune_spec", "prune",
    "prune_chain", "weight_matrix",
]
