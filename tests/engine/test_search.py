"""Case spaces and the worst-case search."""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof.engine.search import Ball, Box, Fixed, Product, worst_case_search
from ntkproof.errors import InvalidArgument
from ntkproof.rng import generator


def test_box_search_finds_interior_maximum():
    ratio = lambda p: np.exp(-((p["x"] - 0.3) ** 2) - (p["y"] + 0.2) ** 2)  # noqa: E731
    res = worst_case_search(ratio, Box(x=(-2, 2), y=(-2, 2)), rng=generator(0), cases=20,
                            restarts=2, iters=100)
    assert res.best_ratio == pytest.approx(1.0, abs=1e-9)


def test_box_rejects_empty_interval():
    with pytest.raises(InvalidArgument, match="lo < hi"):
        Box(x=(1.0, 1.0))


def test_ball_projection_and_sphere():
    space = Product(Fixed(lambda rng: {"V": np.zeros(3), "B": 2.0}),
                    Ball("W", centre="V", radius="B", shape=(3,), on_sphere=True))
    p = space.sample(generator(1))
    assert np.linalg.norm(p["W"]) == pytest.approx(2.0)
    p["W"] = np.array([10.0, 0, 0])
    assert np.linalg.norm(space.project(p)["W"]) == pytest.approx(2.0)


def test_projected_ascent_with_gradient_reaches_ball_boundary_optimum():
    target = np.array([1.0, 2.0, 2.0]) / 3  # unit vector

    def ratio(p):
        return float(p["W"] @ target)

    space = Product(Fixed(lambda rng: {"V": np.zeros(3), "B": 1.0}),
                    Ball("W", centre="V", radius="B", shape=(3,)))
    res = worst_case_search(ratio, space, rng=generator(2), cases=8, restarts=2, iters=50,
                            gradient=lambda p: {"W": target})
    assert res.best_ratio == pytest.approx(1.0, abs=1e-6)


def test_search_is_deterministic_in_the_seed():
    def ratio(p):
        return np.sin(3 * p["x"]) * np.cos(2 * p["y"])

    runs = [worst_case_search(ratio, Box(x=(-2, 2), y=(-2, 2)), rng=generator(7), cases=16,
                              restarts=2, iters=20) for _ in range(2)]
    assert runs[0].random == runs[1].random and runs[0].refined == runs[1].refined
