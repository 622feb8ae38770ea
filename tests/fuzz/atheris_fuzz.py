"""Coverage-guided fuzzing of accelscope's text readers with atheris (libFuzzer), issue 23.

    python tests/fuzz/atheris_fuzz.py TARGET [-max_total_time=SECONDS] [libFuzzer flags]
    python tests/fuzz/atheris_fuzz.py all --seconds 300     # every target in turn

Targets read the bytes a user could hand accelscope: an arch YAML (``arch``), a SCALE-Sim
config (``scalesim-cfg``) and topology (``scalesim-topo``), ``--set`` settings applied to a
preset (``set``), and the ``--prune`` / ``--compress`` / ``--strategy`` option strings
(``options``). The only outcomes allowed are a value or ``AccelscopeError`` (the located
error); anything else is a finding: libFuzzer writes the input as ``crash-*`` into the
working directory, and it belongs in ``tests/fuzz/regressions/TARGET/`` where
``test_fuzz_regressions.py`` replays it in every ``make test``. The seed corpus is the
shipped presets and examples. ``make fuzz`` runs this after the hypothesis properties when
atheris is installed (``pip install atheris``; it ships wheels for CPython on Linux x86-64).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "src" / "accelscope" / "arch" / "presets"
SCALESIM = ROOT / "examples" / "scalesim"
REGRESSIONS = Path(__file__).resolve().parent / "regressions"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _arch(data: bytes) -> None:
    from accelscope.arch.loader import load_arch_text

    load_arch_text(_text(data), "fuzz.yaml")


def _scalesim_file(data: bytes, reader: Callable[[Path], object], suffix: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"fuzz{suffix}"
        p.write_bytes(data)
        reader(p)


def _scalesim_cfg(data: bytes) -> None:
    from accelscope.interop.scalesim import read_config

    _scalesim_file(data, read_config, ".cfg")


def _scalesim_topo(data: bytes) -> None:
    from accelscope.interop.scalesim import check_work, read_config, read_topology

    cfg = read_config(SCALESIM / "scale.cfg")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.csv"
        p.write_bytes(data)
        check_work(cfg, read_topology(p), str(p), 10**7)


def _set(data: bytes) -> None:
    from accelscope.arch import override, parse_setting

    lines = [ln for ln in _text(data).splitlines() if ln.strip()][:4]
    override("gemmini", dict(parse_setting(ln) for ln in lines), where="--set")


def _options(data: bytes) -> None:
    from accelscope.passes import check_compress, parse_strategies
    from accelscope.sparsity.prune import parse_prune_spec

    text = _text(data)
    kind, _, value = text.partition("\n")
    which = kind.strip()
    if which == "prune":
        parse_prune_spec(value)
    elif which == "compress":
        check_compress(value)
    else:
        parse_strategies(value)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "arch": _arch, "scalesim-cfg": _scalesim_cfg, "scalesim-topo": _scalesim_topo,
    "set": _set, "options": _options}


def seeds(target: str) -> list[bytes]:
    """The seed corpus of a target: what a user starts from."""
    if target == "arch":
        return [p.read_bytes() for p in sorted(PRESETS.glob("*.yaml"))]
    if target == "scalesim-cfg":
        return [(SCALESIM / "scale.cfg").read_bytes()]
    if target == "scalesim-topo":
        return [(SCALESIM / "resnet18_conv.csv").read_bytes()]
    if target == "set":
        return [b"compute.array=[8, 8]\ncompute.macs_per_cycle=64\n",
                b"memory.accumulator.size_bytes=131072\n", b"clock_hz=1e9\n"]
    return [b"prune\n0.7", b"prune\nnm:2:4", b"prune\nblock:4x1:0.5", b"compress\ndct",
            b"compress\ndct:quality=75", b"strategy\ngconv,host-fallback"]


def check(target: str, data: bytes) -> None:
    """Run one input; raise AssertionError for any outcome but a value or the located
    error (what libFuzzer and the regression test call)."""
    from accelscope.errors import AccelscopeError

    with contextlib.suppress(AccelscopeError):
        TARGETS[target](data)


def _one(target: str) -> Callable[[bytes], None]:
    def fuzz(data: bytes) -> None:
        check(target, data)
    return fuzz


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*TARGETS, "all"):
        print(f"usage: atheris_fuzz.py {{{'|'.join(TARGETS)}|all}} [libFuzzer flags] "
              "[--seconds N (with all)]", file=sys.stderr)
        return 2
    if argv[0] == "all":  # each target in its own process: libFuzzer runs once per process
        import subprocess

        seconds = int(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 60
        failed = 0
        for t in TARGETS:
            print(f"== {t}: {seconds} s", flush=True)
            failed |= subprocess.call([sys.executable, __file__, t,
                                       f"-max_total_time={seconds}"]) != 0
        return int(failed)
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris); the hypothesis properties "
              "in tests/fuzz cover the same inputs without coverage guidance",
              file=sys.stderr)
        return 0
    target = argv[0]
    corpus = Path(tempfile.mkdtemp(prefix=f"accelscope-fuzz-{target}-"))
    for i, s in enumerate(seeds(target)):
        (corpus / f"seed{i}").write_bytes(s)
    with atheris.instrument_imports(include=["accelscope"]):
        import accelscope.arch
        import accelscope.interop.scalesim
        import accelscope.passes
        import accelscope.sparsity.prune  # noqa: F401
    atheris.Setup([sys.argv[0], *argv[1:], str(corpus)], _one(target))
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
