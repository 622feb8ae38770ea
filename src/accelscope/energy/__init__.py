"""Energy per action: tables per technology node, an SRAM model, DRAM per bit, node scaling,
and the one pricing path of the models (``Pricing``, ``dram_accesses``, ``rescale_dram``);
area per component from per-node constants (``AreaModel``, ``AreaReport``).

See ``docs/energy.md`` and ``docs/area.md`` for every value, its source and what is
uncertain.
"""

from accelscope.energy.area import (
    AreaModel,
    AreaModelError,
    AreaReport,
    node_area_factor,
)
from accelscope.energy.pricing import (
    NormalizedTableError,
    Pricing,
    dram_accesses,
    rescale_dram,
)
from accelscope.energy.sram import (
    SRAM_FIT,
    SRAM_FIT_MAX_REL_ERROR,
    SRAM_FIT_POINTS,
    SRAM_FIT_RANGE_BYTES,
    SramFit,
    SramModelError,
    SramPoint,
    fit_sram_model,
)
from accelscope.energy.tables import (
    NODE_VDD_V,
    NORMALIZED,
    PJ,
    EnergyEntry,
    EnergyTable,
    EnergyTableError,
    describe_tables,
    get_table,
    node_energy_factor,
    provenance,
    scale_table,
    sram_access_pj,
    table_names,
)

__all__ = [
    "NODE_VDD_V",
    "NORMALIZED",
    "PJ",
    "SRAM_FIT",
    "SRAM_FIT_MAX_REL_ERROR",
    "SRAM_FIT_POINTS",
    "SRAM_FIT_RANGE_BYTES",
    "AreaModel",
    "AreaModelError",
    "AreaReport",
    "EnergyEntry",
    "EnergyTable",
    "EnergyTableError",
    "NormalizedTableError",
    "Pricing",
    "SramFit",
    "SramModelError",
    "SramPoint",
    "describe_tables",
    "dram_accesses",
    "fit_sram_model",
    "get_table",
    "node_area_factor",
    "node_energy_factor",
    "provenance",
    "rescale_dram",
    "scale_table",
    "sram_access_pj",
    "table_names",
]
