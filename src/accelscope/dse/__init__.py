"""Design-space exploration (docs/dse.md): a space as data (``space``), its points
(``samplers``, ``guided``), the engine and its executors (``engine``, ``sweep``), the results
store (``store``) and the analysis (``pareto``).

    summary = run_sweep("examples/dse/spots_equal_resources.yaml", out="out/eq")
    df = open_store("out/eq").to_dataframe()
    front = pareto_front(df, "latency,energy")
"""

from accelscope.dse.pareto import (
    best_points,
    influence,
    pareto_front,
    pareto_mask,
    scatter,
)
from accelscope.dse.samplers import Point, grid, latin_hypercube, lhs_points, random_points, sample
from accelscope.dse.space import Axis, Base, Objective, Space, SpaceError, load_space
from accelscope.dse.store import Store, StoreError, open_store
from accelscope.dse.sweep import SweepSummary, run_sweep

__all__ = ["Axis", "Base", "Objective", "Point", "Space", "SpaceError", "Store", "StoreError",
           "SweepSummary", "best_points", "grid", "influence", "latin_hypercube", "lhs_points",
           "load_space", "open_store", "pareto_front", "pareto_mask", "random_points",
           "run_sweep", "sample", "scatter"]
