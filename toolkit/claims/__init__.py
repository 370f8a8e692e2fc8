"""Recording a notebook's claims.

A notebook states what its paper claims, measures it at small scale, and records
both with :func:`record`. Claims are *reported*, not asserted: a claim that does
not hold is written down as such and the run goes on; only an exception fails a
notebook. A claim whose measurement is NaN or infinite is *invalid*: neither held
nor not held.

Each record lands in two places:

* the notebook's output, as a display with ``metadata["toolkit"]["claim"]``, so
  an executed notebook carries its own results;
* a JSON-lines file named by the environment variable ``TOOLKIT_CLAIMS_FILE``
  (set per notebook by ``python -m toolkit run``), which the run report reads.
  Each record replaces the file atomically, so a failed record never leaves it
  empty or half written.
"""

from toolkit.claims.record import (
    CLAIMS_FILE_ENV,
    DEFAULT_ABS_TOL,
    DEFAULT_REL_TOL,
    NOTEBOOK_ENV,
    STATUSES,
    Claim,
    evaluate,
    load_claims,
    record,
)

__all__ = [
    "CLAIMS_FILE_ENV",
    "DEFAULT_ABS_TOL",
    "DEFAULT_REL_TOL",
    "NOTEBOOK_ENV",
    "STATUSES",
    "Claim",
    "evaluate",
    "load_claims",
    "record",
]
