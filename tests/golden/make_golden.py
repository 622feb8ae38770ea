"""Write (or check) the golden network totals that guard refactors: every deterministic
preset on tiny, resnet18, mobilenet_v2 and alexnet-caffe at seed 0 in actual mode, plus
``--prune 0.7`` on the sparse presets.

    python tests/golden/make_golden.py            # compare with network_totals.json
    python tests/golden/make_golden.py --write    # (re)write it, before a refactor
    python tests/golden/make_golden.py --only tiny,mobilenet_v2

The measured host presets (cpu, gpu) time PyTorch on this machine and are left out.
``tests/unit/test_golden.py`` runs the comparison (tiny in the fast tier, all in the slow).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from accelscope.errors import AccelscopeError

GOLDEN = Path(__file__).with_name("network_totals.json")
NETWORKS = ("tiny", "resnet18", "mobilenet_v2", "alexnet-caffe")
SPARSE = ("spots", "scnn", "dcnn", "dcnn-opt", "eyeriss")
MEASURED = ("cpu", "gpu")


def presets() -> list[str]:
    from accelscope.arch.loader import preset_names

    return [p for p in preset_names() if p not in MEASURED]


def cases(only: set[str] | None = None) -> list[tuple[str, str, float | None]]:
    out = []
    for net in NETWORKS:
        if only and net not in only:
            continue
        for arch in presets():
            out.append((net, arch, None))
            if arch in SPARSE:
                out.append((net, arch, 0.7))
    return out


# The passes after evaluation (strategies, codec in the loop, maps on chip), through the CLI
# so that the guard does not depend on where their glue lives. host-fallback is measured.
PASS_NETWORKS = ("resnet18", "mobilenet_v2")
PASS_CASES = {
    "strategies": (["--strategy", "gconv,dedicated,matrix"],
                   ("spots", "scnn", "eyeriss", "systolic-dense", "openedgecgra")),
    "dct+fmaps": (["--compress", "dct", "--fmaps-on-chip"],
                  ("spots", "dcnn", "systolic-dense", "gemmini")),
    "dct": (["--compress", "dct:quality=50"], ("dcnn", "spots", "ideal")),
    "fmaps": (["--fmaps-on-chip", "--prune", "0.7"], ("scnn", "eyeriss", "spots")),
}


def pass_results(net: str, arch: str, case: str) -> dict[str, dict]:
    """Totals of ``accelscope run NET --arch ARCH OPTIONS``, read back from results.json."""
    import contextlib
    import io
    import tempfile

    from accelscope import cli
    from accelscope.results import NetworkResult

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "o"
        args = ["run", net, "--arch", arch, "--out", str(out), *PASS_CASES[case][0]]
        with contextlib.redirect_stdout(io.StringIO()) as text:
            try:
                cli.main(args)
            except SystemExit as exc:
                if exc.code:
                    raise RuntimeError(f"accelscope {' '.join(args)}: exit {exc.code}\n"
                                       f"{text.getvalue()[-2000:]}") from None
        found = sorted(out.rglob("results.json"))
        return {str(f.parent.relative_to(out)): totals(NetworkResult.from_json(f.read_text()))
                for f in found}


def key(net: str, arch: str, prune: float | None) -> str:
    return f"{net}|{arch}|{'dense' if prune is None else f'prune{prune}'}"


def totals(result) -> dict:
    """Every network total a refactor must keep: cycles, MACs, energy per component, DRAM
    bits and the accesses per level and tensor."""
    acc = {f"{lvl}/{t}": {"reads": a.reads, "writes": a.writes, "bits": a.bits}
           for (lvl, t), a in sorted(result.access_totals().items())}
    return {"cycles": result.cycles, "macs": result.macs, "macs_issued": result.macs_issued,
            "macs_useful": result.macs_useful, "macs_skipped": result.macs_skipped,
            "macs_gated": result.macs_gated,
            "energy_pj": dict(sorted(result.energy_pj.items())),
            "dram_bits": result.level_bits("dram"), "stall_cycles":
            dict(sorted(result.stall_cycles.items())), "accesses": acc}


_CHAINS: dict = {}


def evaluate(net: str, arch: str, prune: float | None):
    from accelscope.api import lower
    from accelscope.arch import load_arch
    from accelscope.pipeline import build_workloads, evaluate_workloads
    from accelscope.workload import zoo

    k = (net, prune)
    if k not in _CHAINS:
        zm = zoo.get(net, seed=0)
        x = zm.example_input(seed=0)
        chain = lower(zm.module, x, name=zm.name)
        if prune is not None:
            from accelscope.sparsity.prune import prune as prune_weights

            chain = prune_weights(chain, str(prune)).chain
        _CHAINS[k] = (chain, build_workloads(chain, x, mode="actual", seed=0))
    chain, workloads = _CHAINS[k]
    spec = load_arch(arch)
    return evaluate_workloads(workloads, spec, network=chain.name)


def compute(only: set[str] | None = None, verbose: bool = False) -> dict:
    out = {}
    for net, arch, prune in cases(only):
        t0 = time.perf_counter()
        try:
            out[key(net, arch, prune)] = totals(evaluate(net, arch, prune))
        except AccelscopeError as exc:  # e.g. the ISCA 2016 dataflows run conv/FC only
            out[key(net, arch, prune)] = {"error": type(exc).__name__}
        if verbose:
            print(f"{key(net, arch, prune)}: {time.perf_counter() - t0:.2f} s", flush=True)
    for net in PASS_NETWORKS:
        if only and net not in only:
            continue
        for case, (_, archs) in PASS_CASES.items():
            for arch in archs:
                t0 = time.perf_counter()
                for sub, tot in pass_results(net, arch, case).items():
                    out[f"{net}|{arch}|{case}|{sub}"] = tot
                if verbose:
                    print(f"{net}|{arch}|{case}: {time.perf_counter() - t0:.2f} s", flush=True)
    return out


def differences(want: dict, got: dict) -> list[str]:
    """Every value that differs (exactly; floats to 1e-12 relative, for summation order)."""
    diffs = []

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in a or k not in b:
                    diffs.append(f"{path}/{k}: {'missing' if k not in b else 'new'}")
                else:
                    walk(a[k], b[k], f"{path}/{k}")
        elif isinstance(a, float) or isinstance(b, float):
            if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9):
                diffs.append(f"{path}: {a!r} -> {b!r} ({(b - a) / a if a else math.inf:+.3%})")
        elif a != b:
            diffs.append(f"{path}: {a!r} -> {b!r}")

    for k in want:
        if k in got:
            walk(want[k], got[k], k)
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated networks")
    args = ap.parse_args()
    only = {n for n in args.only.split(",") if n} or None
    got = compute(only, verbose=True)
    if args.write:
        old = json.loads(GOLDEN.read_text()) if GOLDEN.exists() and only else {}
        old.update(got)
        GOLDEN.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(got)} cases to {GOLDEN}")
        return 0
    want = json.loads(GOLDEN.read_text())
    diffs = differences(want, got)
    missing = [k for k in got if k not in want]
    for d in diffs:
        print(d)
    print(f"{len(got)} cases, {len(diffs)} differences, {len(missing)} not in the golden file")
    return 1 if diffs or missing else 0


if __name__ == "__main__":
    sys.exit(main())
