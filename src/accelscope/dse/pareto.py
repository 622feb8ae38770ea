"""Analysis of a results store: Pareto fronts, best points, which axis moves which
objective, and a scatter plot with the front highlighted.

* ``pareto_mask``: the non-dominated rows of a value matrix (every column minimised);
* ``pareto_front``: the front of the feasible rows of each network over the objectives
  (``latency``, ``energy``, ``area``, ``edp``, ``dram``, any totals column; ``NAME:max`` to
  maximise);
* ``best_points``: for each network and objective, the best feasible row;
* ``influence``: for each axis and objective, the correlation ratio eta^2 (the share of the
  objective's variance, in log10 where the objective is positive, that the axis' values
  explain: between-group over total sum of squares, Fisher 1925), per network then averaged
  over the networks, with the Spearman rank correlation for numeric axes (its sign says which
  way the objective moves);
* ``scatter``: two objectives of every feasible row, the front of each network highlighted
  (a matplotlib ``Figure``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from accelscope.dse.space import Objective, SpaceError, parse_objective
from accelscope.dse.store import Store, open_store

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

_META = {"row_key", "point_key", "seq", "space", "sampler", "base", "network", "status",
         "feasible", "error", "point", "eval_s", "worker", "layers_stored", "model", "arch",
         "warnings"}


def store_frame(store: str | os.PathLike[str] | Store | pd.DataFrame,
                objectives: str | Sequence[str] | None = None, space: str | None = None
                ) -> tuple[pd.DataFrame, str | Sequence[str]]:
    """The rows of a store (of ``space`` when given) and the objectives to use: those given,
    else the space's own (when the store holds one space), else latency and energy."""
    import pandas as pd

    if isinstance(store, pd.DataFrame):
        return store, objectives or "latency,energy"
    st = store if isinstance(store, Store) else open_store(store)
    try:
        spaces = st.spaces()
        if space is not None and space not in spaces:
            raise SpaceError(f"--space {space!r} is not in the store; it holds "
                             f"{', '.join(spaces) or 'none'}")
        df = st.to_dataframe(space)
    finally:
        if not isinstance(store, Store):
            st.close()
    if objectives is None:
        names = [space] if space else list(spaces)
        given = [spaces[n].get("objectives") for n in names]
        objectives = given[0] if len(names) == 1 and given[0] else "latency,energy"
    return df, objectives


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (n x m, every column minimised) that no other
    row dominates (no worse in every column and better in one). Equal rows are all kept."""
    v = np.asarray(values, dtype=float)
    n = v.shape[0]
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    # in lexicographic order no row is dominated by a later one
    order = np.lexsort(v.T[::-1])
    front = np.empty((0, v.shape[1]))
    for i in order:
        x = v[i]
        if front.shape[0] and bool(np.any(np.all(front <= x, axis=1) &
                                          np.any(front < x, axis=1))):
            continue
        keep[i] = True
        front = np.vstack([front, x])
    return keep


def objectives_of(names: Sequence[str | Objective] | str) -> list[Objective]:
    items = names.split(",") if isinstance(names, str) else list(names)
    out = [o if isinstance(o, Objective) else parse_objective(o, "--objectives")
           for o in items if not isinstance(o, str) or o.strip()]
    if not out:
        raise SpaceError("--objectives: give one or more, e.g. latency,energy")
    return out


def feasible(df: pd.DataFrame, objectives: Sequence[Objective]) -> pd.DataFrame:
    """The rows that evaluated, passed every constraint and have every objective."""
    missing = [o.column for o in objectives if o.column not in df.columns]
    if missing:
        raise SpaceError(f"--objectives: the store has no column {missing[0]!r} (area is "
                         "there only for models with an area model); columns: "
                         f"{', '.join(c for c in df.columns if c not in _META)}")
    ok = df[(df["status"] == "ok") & (df["feasible"] == 1)]
    for o in objectives:
        ok = ok[ok[o.column].notna()]
    return ok


def pareto_front(df: pd.DataFrame, objectives: Sequence[str | Objective] | str, *,
                 by: str | None = "network") -> pd.DataFrame:
    """The Pareto-optimal feasible rows of ``df`` (a store's ``to_dataframe``) over
    ``objectives``, separately for each value of ``by`` (default: each network; None: all
    rows together), sorted by ``by`` then the first objective."""
    import pandas as pd

    objs = objectives_of(objectives)
    ok = feasible(df, objs)
    parts = []
    groups = ok.groupby(by, sort=True) if by else [(None, ok)]
    for _, g in groups:
        vals = np.column_stack([g[o.column].to_numpy(float) * o.sign() for o in objs]) \
            if len(g) else np.empty((0, len(objs)))
        parts.append(g[pareto_mask(vals)])
    front = pd.concat(parts) if parts else ok.iloc[0:0]
    keys = ([by] if by else []) + [objs[0].column]
    return front.sort_values(keys, ascending=[True] * (len(keys) - 1) + [not objs[0].maximise])


def parameter_columns(df: pd.DataFrame) -> list[str]:
    """The swept parameters of the rows: the keys of their ``point`` values that take more
    than one value (a tied axis by the columns of its paths)."""
    tied = df.attrs.get("tied", {})  # set by Store.to_dataframe
    names: list[str] = []
    for text in df["point"].dropna().unique():
        for k in json.loads(text):
            for c in (tied.get(k, [k]) if k not in df.columns else [k]):
                if c not in names:
                    names.append(c)
    return [c for c in names if c in df.columns and df[c].nunique(dropna=False) > 1]


def best_points(df: pd.DataFrame, objectives: Sequence[str | Objective] | str
                ) -> pd.DataFrame:
    """For each network and objective, the best feasible row (ties: the first point)."""
    import pandas as pd

    objs = objectives_of(objectives)
    ok = feasible(df, objs)
    params = parameter_columns(df)
    rows = []
    for net, g in ok.groupby("network", sort=True):
        for o in objs:
            i = g[o.column].idxmax() if o.maximise else g[o.column].idxmin()
            rows.append({"network": net, "objective": o.name, "value": g.at[i, o.column],
                         "base": g.at[i, "base"],
                         "parameters": ", ".join(f"{c}={_fmt(g.at[i, c])}" for c in params),
                         "point": g.at[i, "point"]})
    return pd.DataFrame(rows, columns=["network", "objective", "value", "base", "parameters",
                                       "point"])


def _eta2(groups: Sequence[np.ndarray]) -> float:
    allv = np.concatenate(groups)
    total = float(((allv - allv.mean()) ** 2).sum())
    if total <= 0 or len(groups) < 2:
        return float("nan")
    between = sum(len(g) * (float(g.mean()) - float(allv.mean())) ** 2 for g in groups)
    return between / total


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    import pandas as pd

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    rx = pd.Series(x).rank().to_numpy()
    ry = pd.Series(y).rank().to_numpy()
    return float(np.corrcoef(rx, ry)[0, 1])


def influence(df: pd.DataFrame, objectives: Sequence[str | Objective] | str,
              axes: Sequence[str] | None = None) -> pd.DataFrame:
    """Which axis moves which objective most (see the module docstring): one row per
    (objective, axis) with ``eta2`` (0..1) and ``spearman`` (-1..1, numeric axes), sorted by
    objective then ``eta2`` descending. ``axes`` default: the swept parameters, plus
    ``base`` when there are several."""
    import pandas as pd

    objs = objectives_of(objectives)
    ok = feasible(df, objs)
    cols = list(axes) if axes is not None else parameter_columns(ok) + (
        ["base"] if ok["base"].nunique() > 1 else [])
    rows = []
    for o in objs:
        for a in cols:
            etas, rhos = [], []
            for _, g in ok.groupby("network"):
                y = g[o.column].to_numpy(float)
                if len(y) < 2:
                    continue
                y = np.log10(y) if bool(np.all(y > 0)) else y
                keys = g[a].astype(str).to_numpy()
                groups = [y[keys == k] for k in dict.fromkeys(keys)]
                etas.append(_eta2(groups))
                num = pd.to_numeric(g[a], errors="coerce")
                if num.notna().all():
                    rhos.append(_spearman(num.to_numpy(float), y))
            eta = float(np.nanmean(etas)) if etas and not all(math.isnan(e) for e in etas) \
                else float("nan")
            rho = float(np.nanmean(rhos)) if rhos and not all(math.isnan(r) for r in rhos) \
                else float("nan")
            rows.append({"objective": o.name, "axis": a, "eta2": eta, "spearman": rho})
    out = pd.DataFrame(rows, columns=["objective", "axis", "eta2", "spearman"])
    if len(out):
        out["_o"] = out["objective"].map({o.name: i for i, o in enumerate(objs)})
        out = out.sort_values(["_o", "eta2"], ascending=[True, False],
                              na_position="last").drop(columns="_o")
    return out.reset_index(drop=True)


def scatter(df: pd.DataFrame, objectives: Sequence[str | Objective] | str,
            path: str | Path | None = None) -> Figure:
    """Every feasible row on the first two objectives (log axes where positive), each
    network's front over all the objectives highlighted and joined; saved as PNG when
    ``path`` is given."""
    from accelscope.report.plots import figure, save

    objs = objectives_of(objectives)
    if len(objs) < 2:
        raise SpaceError("--objectives: a scatter plot needs two objectives")
    ok = feasible(df, objs)
    front = pareto_front(df, objs)
    x, y = objs[0].column, objs[1].column
    fig = figure((7.0, 5.0))
    ax = fig.add_subplot(1, 1, 1)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
               "tab:pink", "tab:olive", "tab:cyan", "tab:gray"]
    for i, (net, g) in enumerate(ok.groupby("network", sort=True)):
        c = colours[i % len(colours)]
        ax.scatter(g[x], g[y], s=10, alpha=0.35, color=c, linewidths=0,
                   label=f"{Path(str(net)).name} ({len(g)})")
        f = front[front["network"] == net].sort_values(x)
        ax.plot(f[x], f[y], "-o", color=c, markersize=5, markeredgecolor="black",
                linewidth=1.2, label=f"front ({len(f)})")
    for col, setter in ((x, ax.set_xscale), (y, ax.set_yscale)):
        if len(ok) and bool((ok[col] > 0).all()):
            setter("log")
    ax.set_xlabel(f"{objs[0].name} ({x})")
    ax.set_ylabel(f"{objs[1].name} ({y})")
    ax.set_title(f"{len(ok)} feasible rows; Pareto front over "
                 f"{', '.join(o.name for o in objs)}", fontsize=10)
    ax.grid(True, which="both", alpha=0.2)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    if path is not None:
        from accelscope.output import atomic_target

        with atomic_target(path, "--plot") as tmp:
            save(fig, tmp)
    return fig


def front_table(front: pd.DataFrame, objectives: Sequence[str | Objective] | str,
                params: Sequence[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(header, rows of text) of a front: network, base, the parameters, the objectives."""
    objs = objectives_of(objectives)
    cols = list(params) if params is not None else parameter_columns(front)
    # an alias names its column, which carries the unit (latency = seconds, energy =
    # total_energy_pj)
    header = ["network", "base", *cols,
              *(o.name if o.name == o.column else f"{o.name} ({o.column})" for o in objs)]
    rows = []
    for _, r in front.iterrows():
        rows.append([Path(str(r["network"])).name, str(r["base"]),
                     *(_fmt(r.get(c)) for c in cols), *(_fmt(r[o.column]) for o in objs)])
    return header, rows


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
