"""Stored run folders for the reporter tests: records of every claim kind, built
from the real decision rules on synthetic numbers (no theorem file runs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ntkproof.engine import decision as dec
from ntkproof.engine.records import RecordWriter, new_run_meta, write_run_meta

STATEMENTS = {
    "bound": r"|R(r,s)| \le \tfrac{\beta}{2}(r-s)^2",
    "probabilistic_bound": r"\Pr\left[\|\Theta_0 - \Theta\|_F \le \epsilon\right] \ge 1-\delta",
    "rate": r"\|\Theta_t - \Theta_0\|_F = O(m^{-1/2})",
    "separation": r"\mathbb{E}\,\mathrm{err}_{\mathrm{NTK}} < \mathbb{E}\,\mathrm{err}_{\mathrm{RF}}",
    "identity": r"\Theta(x, x') = \sum_{l} \prod_{k>l} \dot\Sigma^{(k)} \Sigma^{(l)}",
    "derivation": r"\kappa_1(u) = \frac{1}{\pi}\left(u(\pi - \arccos u) + \sqrt{1-u^2}\right)",
}


def _obs(lhs: float, rhs: float, **params: Any) -> dec.Observation:
    return dec.Observation(params=params, lhs=float(lhs), rhs=float(rhs), scale=abs(rhs) + 1)


def decision_of(kind: str, rng: np.random.Generator, *, bad: bool = False) -> dec.Decision:
    """A real decision of ``kind`` on synthetic data (``bad``: a false claim)."""
    if kind == "bound":
        r = rng.uniform(0, 1.05 if bad else 0.999, 200)
        return dec.decide_bound([_obs(x, 1.0, x=float(x)) for x in r], 1e-12, known_sup=1.0)
    if kind == "probabilistic_bound":
        r = rng.uniform(0, 1.0, 300) * (1.3 if bad else 1.0)
        return dec.decide_probabilistic([_obs(x, 1.0, seed=i) for i, x in enumerate(r)],
                                        delta=0.05, rtol=1e-12)
    if kind == "rate":
        xs = [16, 64, 256, 1024]
        p = 0.25 if bad else 0.5
        errs = [list(x ** -p * np.exp(rng.normal(0, 0.05, 6))) for x in xs]
        return dec.decide_rate(dec.fit_rate(xs, errs, seed=1, n_boot=300), -0.5, 0.05)
    if kind == "separation":
        a = rng.normal(0.10, 0.01, 8)
        b = a + (rng.normal(-0.02, 0.005, 8) if bad else rng.normal(0.05, 0.005, 8))
        return dec.decide_separation(a, b, labels=("NTK", "RF"))
    if kind == "identity":
        errs = rng.uniform(0, 1e-14, 50) * (1e6 if bad else 1)
        return dec.decide_identity([_obs(1 + e, 1.0, i=i) for i, e in enumerate(errs)], 1e-12)
    steps = [{"index": i, "statement": f"step {i}", "justification": "algebra",
              "method": "rule", "symbolic": "closed", "numeric": "agree", "max_error": 1e-40,
              "worst_point": {}, "status": "PROVED"} for i in range(3)]
    return dec.Decision("derivation", "PROVED", 3, "3 steps closed",
                        data={"derivation": {"steps": steps}})


def record(cid: str, kind: str, d: dec.Decision, *, backend: str = "numpy:float64",
           twin_of: str | None = None) -> dict[str, Any]:
    """A claim record shaped as ``ClaimRun.to_record`` writes it."""
    rec: dict[str, Any] = {
        "id": cid, "theorem": cid.split(".")[0], "title": f"{kind} claim {cid}",
        "statement": STATEMENTS[kind], "source": "Jacot et al. 2018, Thm 1", "kind": kind,
        "verdict": d.verdict, "backend": backend, "cases": d.cases, "duration_s": 0.25,
        "tightness": d.tightness, "worst_case": d.worst_case, "seed": 0,
        "reproduce": f"ntkproof verify {cid} --backend {backend} --budget quick --seed 0",
        "message": f"[{d.kind}] {d.verdict}: {d.message}",
        "checks": [{"kind": d.kind, "verdict": d.verdict, "message": d.message,
                    "cases": d.cases, "data": d.data}]}
    if kind == "bound":
        rec["tightness"] = dict(rec["tightness"], known_sup=1.0)
    for key in ("rate", "violations"):
        if getattr(d, key):
            rec[key] = getattr(d, key)
    if twin_of:
        rec["twin_of"] = twin_of
    return dec._jsonable(rec)


KINDS = ["bound", "probabilistic_bound", "rate", "separation", "identity", "derivation"]


def write_run(path: Any, *, backend: str = "numpy:float64", theorems: int = 2,
              complete: bool = True, seed: int = 0, bad: tuple[str, ...] = (),
              twins: bool = True) -> Any:
    """A run folder: per theorem one claim of every kind (and a twin of its bound).

    ``bad`` lists claim ids whose data is drawn from a false claim; twins are
    drawn false unless their id is in ``bad`` (then they come out true).
    """
    meta = new_run_meta(backend=backend, budget="quick", seed=seed, command="ntkproof verify")
    if complete:
        meta.update(finished_at=meta["started_at"], complete=True)
    write_run_meta(path, meta)
    rng = np.random.default_rng(seed)
    writer = RecordWriter(path, "gw0")
    for t in range(theorems):
        for kind in KINDS:
            cid = f"thm{t}.{kind}"
            writer.write(record(cid, kind, decision_of(kind, rng, bad=cid in bad),
                                backend=backend))
        if twins:
            cid = f"thm{t}.twin_bound"
            writer.write(record(cid, "bound", decision_of("bound", rng, bad=cid not in bad),
                                backend=backend, twin_of=f"thm{t}.bound"))
    return path
