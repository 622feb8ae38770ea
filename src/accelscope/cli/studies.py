"""The studies of the seed papers: ``sweep-density`` (SCNN), ``dct-accuracy`` (DCT codec),
``eyeriss-dataflows`` (ISCA 2016), ``cgra`` (the CGRA mappings)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.text import Text

from accelscope.cli._app import (
    ArchListOpt,
    ForceOpt,
    ModelArg,
    NoPlotOpt,
    QuietOpt,
    SeedOpt,
    SetOpt,
    _complete_items,
    _complete_models,
    _complete_presets,
    app,
    arch_with_settings,
    console,
    fit_consoles,
    items,
    joined,
    run_output,
    status,
    styled,
    wrote,
)
from accelscope.errors import AccelscopeError, InputFileError
from accelscope.models.cgra.mappings import MAPPINGS as CGRA_MAPPINGS
from accelscope.report.tables import (
    fitted_table,
)

if TYPE_CHECKING:
    from accelscope.models.cgra.mappings import MappingRun


def _parse_densities(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        vals = []
    if not vals:
        raise InputFileError(f"--densities {text!r} is not a comma-separated list of numbers; "
                             "write e.g. --densities 0.1,0.2,0.5,1.0")
    bad = [v for v in vals if not 0 < v <= 1]  # NaN fails the comparison too
    if bad:
        raise InputFileError(f"--densities {text!r}: {bad[0]:g} is outside (0, 1]; each is "
                             "a fraction of non-zero operands, e.g. 0.1,0.5,1.0")
    return vals


@app.command("sweep-density")
def sweep_density_cmd(
    ctx: typer.Context,
    model: ModelArg,
    arch: ArchListOpt,
    set_: SetOpt = None,
    densities: Annotated[list[str] | None, typer.Option(
        help="weight = activation densities to sweep, comma-separated or repeated "
             "(default 0.1,0.2,...,1.0)")] = None,
    include_fc: Annotated[bool, typer.Option(
        "--include-fc", help="sweep the fully-connected layers too")] = False,
    out: Annotated[Path | None, typer.Option(
        help="directory for density_sweep.csv and density_sweep.png "
             "(default out/sweep-density-MODEL)")] = None,
    seed: SeedOpt = 0, quiet: QuietOpt = False, no_plot: NoPlotOpt = False,
    force: ForceOpt = False,
) -> None:
    """Speed-up and energy against operand density, every conv layer re-drawn with uniformly
    random weights and activations at each density (SCNN, ISCA 2017, Fig. 10)."""
    from accelscope.report.density_sweep import density_sweep, plot_density_sweep

    fit_consoles(quiet)
    refs = items(arch)
    if not refs:
        raise InputFileError("--arch needs at least one preset name or YAML path")
    specs = [arch_with_settings(a, set_) for a in refs]
    dens = _parse_densities(",".join(densities) if densities is not None
                            else ",".join(f"{d / 10:g}" for d in range(1, 11)))
    dest = run_output(ctx, out, "sweep-density", model, force=force)
    with status(f"sweeping {len(dens)} densities x {len(specs)} archs ..."), dest as o:
        df = density_sweep(model, specs, dens, None, include_fc=include_fc, seed=seed)
        df.to_csv(o.path("density_sweep.csv"), index=False)
        if not no_plot:
            plot_density_sweep(df, o.path("density_sweep.png"))
    base = df["baseline"].iloc[0]
    names = list(dict.fromkeys(df["arch"]))
    cols = ["density"] + [f"{a} speed-up" for a in names] + [f"{a} energy" for a in names]
    rows = []
    for d, sub in df.groupby("density", sort=True):
        by = {r["arch"]: r for _, r in sub.iterrows()}
        rows.append([f"{d:g}"] + [f"{by[a]['speedup']:.3g}x" for a in names]
                    + [f"{by[a]['energy_rel']:.3g}" for a in names])
    console.print(fitted_table(
        f"{df['network'].iloc[0]}: {int(df['layers'].iloc[0])} layers, speed-up over {base} "
        f"and energy relative to {base}", cols, rows, flex="density",
        right=set(cols) - {"density"}))
    wrote(dest)


@app.command("dct-accuracy")
def dct_accuracy_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(
        help="digits-cnn (trained here: accuracy) or a zoo model (top-1 agreement with the "
             "uncompressed network on random inputs)", autocompletion=_complete_models)
    ] = "digits-cnn",
    setting: Annotated[list[str] | None, typer.Option(
        help="a --compress setting; repeat for several (not comma-separated: a setting's "
             "own parameters are; default: JPEG quality 95 ... 10)")] = None,
    images: Annotated[int | None, typer.Option(
        min=1, help="the first N test images (digits-cnn) or N random inputs (other models)")
    ] = None,
    out: Annotated[Path | None, typer.Option(
        help="directory for dct_accuracy.csv / .png (default out/dct-accuracy-MODEL)")] = None,
    quiet: QuietOpt = False, no_plot: NoPlotOpt = False, force: ForceOpt = False,
) -> None:
    """Accuracy of the digits CNN (trained here) with its feature maps DCT-coded, against the
    compression ratio; or the top-1 agreement of any zoo model."""
    import math

    from accelscope.report.dct_accuracy import accuracy_sweep, plot_accuracy

    fit_consoles(quiet)
    settings = setting or [f"dct:quality={q}" for q in (95, 90, 75, 50, 25, 10)]
    dest = run_output(ctx, out, "dct-accuracy", model, force=force)
    with status(f"running {len(settings)} codec settings ..."), dest as o:
        df = accuracy_sweep(settings, out_dir=None, images=images, model=model)
        df.to_csv(o.path("dct_accuracy.csv"), index=False)
        if not no_plot:
            plot_accuracy(df, o.path("dct_accuracy.png"))

    def pct(v: float, sign: str = "") -> str:
        return "-" if math.isnan(v) else f"{v:{sign}.2f}"

    rows = [[r["setting"], f"{r['ratio']:.2f}x", f"{r['bits_per_activation']:.2f}",
             f"{r['mean_snr_db']:.1f}", pct(100 * r["accuracy"]),
             pct(r["accuracy_drop_pts"], "+"), f"{100 * r['agreement']:.1f}%"]
            for _, r in df.iterrows()]
    cols = ["setting", "ratio", "bits/act", "SNR dB", "top-1 %", "drop (pts)", "agreement"]
    base = df["baseline_accuracy"].iloc[0]
    what = (f"{int(df['images'].iloc[0])} test images, uncompressed top-1 {100 * base:.2f}%"
            if not math.isnan(base) else f"{int(df['images'].iloc[0])} random inputs, "
            "agreement with the uncompressed network")
    console.print(fitted_table(f"{model}, {what}", cols, rows, flex="setting",
                                right=set(cols) - {"setting"}))
    wrote(dest)


@app.command("eyeriss-dataflows")
def eyeriss_dataflows_cmd(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(help="images per batch (the paper: 1, 16, 64)")] = 16,
    out: Annotated[Path | None, typer.Option(
        help="directory for eyeriss_dataflows.csv and eyeriss_dataflows.png (default "
             "out/eyeriss-dataflows-bBATCH)")] = None,
    fc: Annotated[bool, typer.Option("--fc", help="add the FC layers FC6-8 (the paper "
                                                  "compares them too)")] = False,
    quiet: QuietOpt = False, no_plot: NoPlotOpt = False, force: ForceOpt = False,
) -> None:
    """ISCA 2016 dataflow comparison: AlexNet CONV1-5 on RS, WS, OS_A/B/C and NLR (256 PEs,
    equal storage area), energy per component per MAC and RS's advantage; writes a plot."""
    from accelscope.report.eyeriss_dataflows import (
        ALEXNET_CONVS,
        ALEXNET_FCS,
        compare,
        frame,
        plot,
        table_rows,
    )

    fit_consoles(quiet)
    if batch < 1:
        raise AccelscopeError(f"--batch must be at least 1, got {batch}")
    dest = run_output(ctx, out, "eyeriss-dataflows", f"b{batch}" + ("-fc" if fc else ""),
                      force=force)
    with status("searching the mappings of every dataflow ..."):
        cmp = compare(batch=batch, layers={**ALEXNET_CONVS, **(ALEXNET_FCS if fc else {})})
    cols = ["layer", "flow", "ALU", "RF", "array", "buffer", "DRAM", "sum", "1e9", "RS adv"]
    console.print(fitted_table(
        f"alexnet-caffe batch {batch}: energy per MAC by component (units of one MAC's "
        "energy), the layer's total in 1e9 MAC energies, RS's advantage", cols,
        table_rows(cmp), flex="flow", right=set(cols[2:])))
    for df in cmp.dataflows[1:]:
        fcs = f", {cmp.advantage(df, tuple(ALEXNET_FCS)):.2f}x on FC6-8" if fc else ""
        console.print(f"RS vs {df}: {cmp.advantage(df, tuple(ALEXNET_CONVS)):.2f}x more "
                      f"energy-efficient on CONV1-5 (ISCA 2016: 1.4x-2.5x){fcs}",
                      highlight=False)
    with dest as o:
        frame(cmp).to_csv(o.path("eyeriss_dataflows.csv"), index=False)
        if not no_plot:
            plot(cmp, o.path("eyeriss_dataflows.png"))
    wrote(dest)


@app.command("cgra")
def cgra_cmd(
    ctx: typer.Context,
    layer: Annotated[str, typer.Option(help="HxWxCxK (input height, width, channels, "
                                            "filters; 3x3 filters, stride 1, no padding)")
                     ] = "16x16x16x16",
    mapping: Annotated[list[str] | None, typer.Option(
        help="all (default), or mappings comma-separated or repeated: wp, oc, im2col-ic, "
             "im2col-oc", autocompletion=_complete_items(("all", *CGRA_MAPPINGS)))] = None,
    arch: Annotated[str, typer.Option(help="a cgra preset or YAML",
                                      autocompletion=_complete_presets)] = "openedgecgra",
    set_: SetOpt = None,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1,
                                      help="seed of the random int32 data")] = 0,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="print the energy "
                                            "breakdown per mapping")] = False,
    sweep: Annotated[bool, typer.Option("--sweep", help="run the paper's sweeps (input "
                                        "16-64, C 16-144, K 16-128) instead of --layer")
                     ] = False,
    out: Annotated[Path | None, typer.Option(
        help="directory for cgra.csv (and with --sweep cgra_sweep.png; default: no files)")
    ] = None,
    max_cycles: Annotated[int | None, typer.Option(
        "--max-cycles", min=1,
        help="simulate a --layer of up to this many estimated CGRA cycles (default 3e8, "
             "about a minute; a larger layer is refused before any work)")] = None,
    quiet: QuietOpt = False, no_plot: NoPlotOpt = False,
) -> None:
    """Run one convolution through the OpenEdgeCGRA mappings (instruction-level simulation
    on random data, checked against NumPy) and compare with the host CPU."""
    from accelscope.models.cgra import study as cs
    from accelscope.models.cgra.layout import ConvShape
    from accelscope.models.cgra.spec import CgraSpec

    fit_consoles(quiet)
    spec = arch_with_settings(arch, set_)
    if not isinstance(spec, CgraSpec):
        raise AccelscopeError(f"--arch {arch!r} is a {spec.model!r} spec; give a cgra preset "
                              "such as openedgecgra")
    if mapping is not None and not items(mapping):
        raise InputFileError("--mapping is empty; give all, or one or more of "
                             f"{', '.join(CGRA_MAPPINGS)}")
    mapping_text = joined(mapping) or "all"
    dest = run_output(ctx, out) if out is not None else None  # a bad --out fails now
    if sweep:
        with status("simulating the sweeps ..."):
            results = cs.sweep(spec, mapping_text, seed)
        for name, studies in results.items():
            maps = list(studies[0].outcomes)
            rows: list[list[str | Text]] = []
            n_banks = spec.cgra.array.n_banks
            for st in studies:
                row: list[str | Text] = [str(st.shape)]
                for m in maps:
                    o = st.outcomes[m]
                    mark = "" if o.banks <= n_banks else f" ({o.banks}b)"
                    row.append(styled(f"{o.macs_per_cycle:.3f}{mark}",
                                      ("" if o.exact else " NOT EXACT", "red")))
                row.append(f"{st.shape.macs / st.cpu.cycles:.3f}")
                rows.append(row)
            console.print(fitted_table(f"MAC/cycle, {name} sweep (HxWxCxK)",
                                        ["layer", *maps, "cpu"], rows, flex="layer",
                                        right=set(maps) | {"cpu"}))
        console.print(f"(Nb): the layer does not fit the preset's {n_banks} banks of "
                      f"{spec.cgra.array.bank_bytes:,} B; it ran on N banks", highlight=False)
        if dest is not None:
            import pandas as pd

            with dest as files:
                pd.DataFrame([row for name, studies in results.items() for st in studies
                              for row in cs.study_rows(st, name)]
                             ).to_csv(files.path("cgra.csv"), index=False)
                if not no_plot:
                    cs.plot_sweep(results, files.path("cgra_sweep.png"))
            wrote(dest)
        return
    shape = ConvShape.parse(layer)
    limit = max_cycles if max_cycles is not None else cs.MAX_SIM_CYCLES
    t0 = time.perf_counter()
    st = cs.study_layer(shape, spec, mapping_text, seed, grow_banks=True,
                        max_cycles=limit)
    wall = time.perf_counter() - t0
    cpu = st.cpu
    budget = spec.cgra.array.bank_bytes * spec.cgra.array.n_banks
    perf: list[list[str | Text]] = []
    cost: list[list[str]] = []
    for m, o in st.outcomes.items():
        if o.priced is None:
            perf.append([m, "-", "-", "-", "-", "-", "-"])
            cost.append([m, "-", "-", "-", "-", "-", "-"])
            continue
        p = o.priced
        run = cast("MappingRun", o.run)  # set together with priced
        perf.append([m, "yes" if o.exact else Text("NO", "red"), f"{run.launches:,}",
                     f"{p.cgra_cycles:,}", f"{p.cycles:,}", f"{o.macs_per_cycle:.3f}",
                     f"{cpu.cycles / p.cycles:.2f}x"])
        fits = "fits" if o.banks <= spec.cgra.array.n_banks else f"needs {o.banks} banks"
        cost.append([m, f"{p.total_energy_pj / 1e6:.2f}",
                     f"{p.total_energy_pj / shape.macs:.1f}",
                     f"{cpu.total_energy_pj / p.total_energy_pj:.2f}x",
                     f"{run.footprint_bytes:,}", fits, f"{o.sim_seconds:.2f}"])
    perf.append(["cpu", "-", "-", "-", f"{cpu.cycles:,}", f"{shape.macs / cpu.cycles:.3f}",
                 "1.00x"])
    cost.append(["cpu", f"{cpu.total_energy_pj / 1e6:.2f}",
                 f"{cpu.total_energy_pj / shape.macs:.1f}", "1.00x", "-", "-", "-"])
    cols = ["mapping", "exact", "launches", "CGRA cycles", "cycles", "MAC/cycle",
            "vs CPU"]
    console.print(fitted_table(
        f"conv {shape} (3x3, stride 1, {shape.macs:,} MACs) on {spec.name}: latency", cols,
        perf, flex="mapping", right=set(cols[2:])))
    cols = ["mapping", "energy uJ", "pJ/MAC", "vs CPU", "footprint B", "banks", "sim s"]
    console.print(fitted_table(f"energy and memory (the preset's banks hold {budget:,} B)",
                                cols, cost, flex="mapping",
                                right=set(cols[1:]) - {"banks"}))
    if breakdown:
        for m, o in st.outcomes.items():
            if o.priced is None:
                continue
            parts = ", ".join(f"{k} {v / 1e6:.3f}" for k, v in sorted(o.priced.energy_pj.items(),
                                                                      key=lambda kv: -kv[1]))
            console.print(f"{m} energy uJ: {parts}; "
                          f"{o.priced.total_energy_pj / shape.macs:.1f} pJ/MAC", highlight=False)
        parts = ", ".join(f"{k} {v / 1e6:.3f}" for k, v in cpu.energy_pj.items())
        console.print(f"cpu energy uJ: {parts}; {cpu.total_energy_pj / shape.macs:.1f} pJ/MAC",
                      highlight=False)
    if dest is not None:
        import pandas as pd

        with dest as files:
            pd.DataFrame(cs.study_rows(st)).to_csv(files.path("cgra.csv"), index=False)
        wrote(dest)
    rank = st.ranking()
    console.print(f"fastest first: {' > '.join(rank)}; simulated in {wall:.2f} s "
                  f"(docs/cgra.md: the CPU is a cycle model of the naive loop, not a "
                  "measurement)", highlight=False)
