"""examples/arch/my_accelerator.yaml, the commented design a newcomer copies: it loads, its
comments name every model family a design can use (from the registry) and document every
field it sets, and `accelscope run tiny --arch` on it works (the README's console block
checks the printed numbers)."""

from __future__ import annotations

import re

from tests.docs.conftest import Runner
from tests.docs.mdblocks import ROOT

EXAMPLE = ROOT / "examples" / "arch" / "my_accelerator.yaml"


def test_it_loads_as_a_systolic_design() -> None:
    from accelscope.arch import load_arch

    spec = load_arch(EXAMPLE)
    assert spec.model == "systolic" and spec.name == "my-accelerator"
    assert spec.compute.macs_per_cycle == 512


def test_its_comments_name_every_model_family() -> None:
    from accelscope.models.registry import model_names

    text = EXAMPLE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^#   (\w+)\s{2,}", text, re.M))
    assert listed == set(model_names()), (
        f"{EXAMPLE.name}: the comment lists {sorted(listed)}, the registry has "
        f"{sorted(model_names())}")


def test_every_field_it_sets_is_commented_with_a_unit_or_kind() -> None:
    """Each key of the top level and of the sections (and of the first memory level) has a
    comment on its line saying its unit or kind in brackets, as the README promises."""
    missing = []
    in_first_level = True
    for n, line in enumerate(EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("  - name:") and n > 1:
            in_first_level = "input_sram" in line
        m = re.match(r"^( {0,4})(?:- )?(\w+):", line)
        if not m or not in_first_level:
            continue
        if "#" not in line:
            missing.append(f"{n}: {m.group(2)}")
        elif not re.search(r"#.*(\[|section|level|memory|model's own|the PE array)", line):
            missing.append(f"{n}: {m.group(2)} (no [unit])")
    assert not missing, f"{EXAMPLE.name}: fields without an explaining comment: {missing}"


def test_run_tiny_on_it(runner: Runner) -> None:
    rc, out = runner.run("examples/arch", "accelscope run tiny --arch "
                         "examples/arch/my_accelerator.yaml --no-plot")
    assert rc == 0, out
    assert "tiny on my-accelerator:" in out and "cycles" in out
