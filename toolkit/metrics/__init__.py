"""Key numbers a notebook records for regression runs.

:func:`record` writes ``name``, ``value`` and its tolerances to the JSON-lines file
named by ``TOOLKIT_METRICS_FILE``, which ``python -m toolkit run`` sets beside each
notebook's claims file. Baselines (``python -m toolkit baselines``) and the run
report compare them across runs.
"""

from toolkit.metrics.record import METRICS_FILE_ENV, Metric, load_metrics, record

__all__ = ["METRICS_FILE_ENV", "Metric", "load_metrics", "record"]
