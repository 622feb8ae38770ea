"""Architecture specs: pydantic models of accelerators, loaded from YAML presets or files.

    spec = load_arch("ideal")            # a preset shipped in arch/presets
    spec = load_arch("my_design.yaml")   # a file; errors read file:line: field.path: problem
    spec.defaults_used()                 # fields that took their documented default
    spec = override(spec, {"compute.array": [64, 8], "compute.macs_per_cycle": 512})
"""

from accelscope.arch.loader import (
    ArchError,
    arch_rows,
    load_arch,
    load_arch_text,
    preset_names,
)
from accelscope.arch.override import override, parse_setting
from accelscope.arch.spec import (
    TENSORS,
    ArchSpec,
    ComputeSpec,
    DramSpec,
    HostParams,
    HostSpec,
    MemoryLevel,
    format_arch,
    iter_fields,
    register_spec,
    spec_class,
    spec_models,
)

__all__ = [
    "TENSORS",
    "ArchError",
    "ArchSpec",
    "ComputeSpec",
    "DramSpec",
    "HostParams",
    "HostSpec",
    "MemoryLevel",
    "SpecSection",
    "arch_rows",
    "format_arch",
    "iter_fields",
    "load_arch",
    "load_arch_text",
    "override",
    "parse_setting",
    "preset_names",
    "register_spec",
    "spec_class",
    "spec_models",
]
