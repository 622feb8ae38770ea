"""Reports of results, and, called as ``accelscope.report(result_or_path, path=None)``, the
one-page HTML report (docs/report.md): tables, comparisons, the results writer, plots
(matplotlib Figures) and the HTML page (``report.html``)."""

from accelscope.report.plots import plot_compare, plot_network

__all__ = ["plot_compare", "plot_network"]
