"""The lists of presets, models, zoo networks, validate targets, CLI commands and options and
the public API in the docs are generated from the registries (tests/docs/gen_lists.py)."""

from __future__ import annotations

import pytest

from tests.docs import gen_lists

FIX = "python tests/docs/gen_lists.py --write"


@pytest.fixture(scope="module")
def cache() -> dict[str, str]:
    return {}


def test_generated_regions_are_current(cache: dict[str, str]) -> None:
    bad = gen_lists.stale(cache)
    assert not bad, (f"generated lists out of date in {', '.join(bad)}: the registries "
                     f"changed; run `{FIX}` and commit the pages")


def test_every_generator_is_used() -> None:
    used = {name for p in gen_lists.pages()
            for name in gen_lists.regions(p.read_text(encoding="utf-8"))}
    assert used == set(gen_lists.GENERATORS), (
        f"unused generators: {sorted(set(gen_lists.GENERATORS) - used)}; unknown regions: "
        f"{sorted(used - set(gen_lists.GENERATORS))}")


def test_generated_lists_hold_the_registries(cache: dict[str, str]) -> None:
    """The generators list every entry (a generator that lost its rows would pass the
    staleness check forever)."""
    from accelscope import __all__ as public
    from accelscope.arch import preset_names
    from accelscope.models.registry import model_names
    from accelscope.workload import zoo

    text = {name: cache.get(name) or fn() for name, fn in gen_lists.GENERATORS.items()}
    for p in preset_names():
        assert f"`{p}`" in text["presets"]
    for m in model_names():
        assert f"`{m}`" in text["models"]
    for z in zoo.names():
        assert f"`{z}`" in text["zoo"] and f"`{z}`" in text["zoo-names"]
    for name in public:
        assert f"`accelscope.{name}`" in text["api"]
    for cmd in ("run", "compare", "validate", "archs"):
        assert f"`accelscope {cmd}`" in text["commands"]
        assert f"### `accelscope {cmd}`" in text["cli-options"]
    assert "`--arch`" in text["cli-options"]


def test_a_stale_region_is_found(tmp_path, monkeypatch) -> None:
    page = tmp_path / "README.md"
    page.write_text("x\n<!-- generated: zoo-names -->\n`alexnet`\n<!-- /generated -->\n")
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(gen_lists, "ROOT", tmp_path)
    assert gen_lists.stale() == ["README.md"]
    assert gen_lists.main(["--write"]) == 0
    assert gen_lists.stale() == []
