"""Reports of results: per-layer and side-by-side plots (PNG)."""

from accelscope.report.plots import plot_compare, plot_network

__all__ = ["plot_compare", "plot_network"]
