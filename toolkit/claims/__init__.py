"""Recording a notebook's claims.

A notebook states what its paper claims, measures it at small scale, and records
both with :func:`record`. Claims are *reported*, not asserted: a claim that does
not hold is written down as such and the run goes on; only an exception fails a
notebook. A claim whose measurement is NaN or infinite is *invalid*: neither held
nor not held.

A claim can only hold for the right reason:

* **Seeds and intervals.** A quantity measured once per seed goes in ``samples``; the
  record keeps the per-seed values, their mean and a 95% interval (Student's t, or a seeded
  bootstrap), and ``holds_if`` can ask the interval to clear the bar (``"lo(gap) > 0"``)
  instead of the point estimate.
* **Sanity gates.** ``preconditions`` name checks the model must pass before the claim
  means anything (``Precondition("de-confounded accuracy", 0.95, ">= 0.7")``); when one
  fails the claim is **not testable here**, with the reason, never held.

Each record lands in two places:

* the notebook's output, as a display with ``metadata["toolkit"]["claim"]``, so
  an executed notebook carries its own results;
* a JSON-lines file named by the environment variable ``TOOLKIT_CLAIMS_FILE``
  (set per notebook by ``python -m toolkit run``), which the run report reads.
  Each record replaces the file atomically, so a failed record never leaves it
  empty or half written.
"""

from toolkit.claims.intervals import Interval, interval
from toolkit.claims.record import (
    CLAIMS_FILE_ENV,
    DEFAULT_ABS_TOL,
    DEFAULT_REL_TOL,
    NOT_TESTABLE,
    NOTEBOOK_ENV,
    STATUSES,
    TRAINED,
    VERDICTS,
    Claim,
    Precondition,
    build,
    decide,
    evaluate,
    load_claims,
    record,
)

__all__ = [
    "CLAIMS_FILE_ENV",
    "DEFAULT_ABS_TOL",
    "DEFAULT_REL_TOL",
    "NOTEBOOK_ENV",
    "NOT_TESTABLE",
    "STATUSES",
    "TRAINED",
    "VERDICTS",
    "Claim",
    "Interval",
    "Precondition",
    "build",
    "decide",
    "evaluate",
    "interval",
    "load_claims",
    "record",
]
