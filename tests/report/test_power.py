"""The tightness-and-power table: near twins are told from far ones, and a claim shows
power only when it was decided and a near twin was rejected."""

from __future__ import annotations

from ntkproof.report.power import power_table, tightness_cell, twins_cell


def _bound(cid, verdict, top, twin_of=None, **extra):
    rec = {"id": cid, "kind": "bound", "verdict": verdict,
           "tightness": {"max": top, "known_sup": 1.0}}
    if twin_of:
        rec["twin_of"] = twin_of
    rec.update(extra)
    return rec


def _rate(cid, verdict, claimed, ci, twin_of=None):
    rec = {"id": cid, "kind": "rate", "verdict": verdict, "tightness": {"max": -0.7},
           "rate": {"claimed": claimed, "fitted": -0.7, "ci": ci, "slack": 0.05,
                    "attained": False, "rejects_below": ci[0] - 0.05}}
    if twin_of:
        rec["twin_of"] = twin_of
    return rec


def test_a_constant_off_by_ten_percent_is_near_and_a_factor_two_is_far():
    rows = power_table([_bound("t.b", "HOLDS", 0.999),
                        _bound("t.b.twin_near", "FALSIFIED", 0.999 / 0.9, "t.b"),
                        _bound("t.b.twin_far", "FALSIFIED", 0.999 * 2, "t.b")])
    (row,) = rows
    near = {t["id"]: t["near"] for t in row["twins"]}
    assert near == {"t.b.twin_near": True, "t.b.twin_far": False}
    assert row["has_near_twin"] and row["shows_power"]
    assert "99.90% of the known sup 1" in tightness_cell(row)
    assert "twin_near: FALSIFIED, near" in twins_cell(row)


def test_rate_twins_are_near_within_max_of_a_tenth_and_three_half_widths():
    claim = _rate("t.r", "HOLDS", -0.5, [-0.80, -0.60])   # half-width 0.1: near <= 0.3
    rows = power_table([claim, _rate("t.r.twin_a", "FALSIFIED", -0.75, [-0.8, -0.6], "t.r"),
                        _rate("t.r.twin_b", "FALSIFIED", -1.5, [-0.8, -0.6], "t.r")])
    near = {t["id"]: t["near"] for t in rows[0]["twins"]}
    assert near == {"t.r.twin_a": True, "t.r.twin_b": False}
    assert abs(rows[0]["power"]["rejects_below"] + 0.85) < 1e-12


def test_an_undecided_claim_shows_no_power_even_with_a_rejected_near_twin():
    rows = power_table([_bound("t.b", "INCONCLUSIVE", 0.99),
                        _bound("t.b.twin", "FALSIFIED", 1.1, "t.b")])
    assert rows[0]["has_near_twin"] and not rows[0]["shows_power"]


def test_a_twin_may_declare_why_it_is_near():
    rows = power_table([{"id": "t.s", "kind": "separation", "verdict": "HOLDS",
                         "tightness": {"max": 0.3}},
                        {"id": "t.s.twin", "kind": "separation", "verdict": "FALSIFIED",
                         "tightness": {"max": 0.3}, "twin_of": "t.s",
                         "near": "margin 0.33: 10% above the measured gap"}])
    assert rows[0]["twins"][0]["near"] and rows[0]["shows_power"]
