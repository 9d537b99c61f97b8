"""The engine: what turns a theorem file's claims into verdicts and records.

It knows no theorem, no network and no pytest. Modules by responsibility:

* ``claims`` -- :func:`claim` (a claim's metadata, its twins, its backends), ids,
  selectors;
* ``runner`` -- :class:`ClaimRun`, the per-claim runner a theorem's body talks to
  (``ntk.bound``, ``ntk.rate``, ...), and the outcome of a claim;
* ``search`` -- case spaces (:class:`Box`, :class:`Ball`, ...) and the worst-case
  search;
* ``decision`` -- the decision rules (pure statistics);
* ``verdicts`` -- the verdict vocabulary, failure rules and a run's status;
* ``budgets`` -- how much work a run spends per claim;
* ``records`` -- the JSON records of a run (the source of truth of every report).
"""
