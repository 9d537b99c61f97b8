"""Case spaces and the worst-case search.

A bound ``lhs <= rhs`` is checked on random cases *and* on cases found by
maximising ``lhs / rhs``: random restarts (the best of the random draws) each
refined by a local optimiser. A space says how to draw a case, how to flatten
it to a vector for the optimiser, and how to project a vector back into the
space:

* :class:`Box` — independent scalars in intervals (``r=(-6, 6), s=(-6, 6)``);
* :class:`Ball` — one array within (or on) a Euclidean sphere around a centre,
  e.g. weights ``W`` with ``||W - V||_F <= B``: projected ascent;
* :class:`Fixed` — values that are drawn but not optimised;
* :class:`Product` — several spaces side by side.

The optimiser is L-BFGS-B with finite-difference gradients on the projected
objective when the vector is small (at most ``max_fd_dim`` numbers); for
larger vectors the claim passes an analytic gradient of the ratio and the
search runs projected gradient ascent with backtracking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import InvalidArgument

__all__ = ["Space", "Box", "Ball", "Fixed", "Product", "worst_case_search", "SearchResult"]

Params = dict[str, Any]


class Space:
    """A set of cases: draw, flatten, unflatten, project."""

    def sample(self, rng: np.random.Generator) -> Params:
        raise NotImplementedError

    def to_vector(self, params: Params) -> np.ndarray:
        raise NotImplementedError

    def from_vector(self, vec: np.ndarray, template: Params) -> Params:
        raise NotImplementedError

    def project(self, params: Params) -> Params:
        return params


@dataclass
class Box(Space):
    """Independent scalars, each uniform in its interval ``name=(lo, hi)``."""

    bounds: dict[str, tuple[float, float]]

    def __init__(self, **bounds: tuple[float, float]) -> None:
        for name, (lo, hi) in bounds.items():
            if not lo < hi:
                raise InvalidArgument(f"Box: interval for {name!r} must have lo < hi, got "
                                      f"({lo}, {hi})")
        self.bounds = dict(bounds)

    def sample(self, rng: np.random.Generator) -> Params:
        return {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in self.bounds.items()}

    def to_vector(self, params: Params) -> np.ndarray:
        return np.array([params[k] for k in self.bounds], dtype=float)

    def from_vector(self, vec: np.ndarray, template: Params) -> Params:
        return {k: float(v) for k, v in zip(self.bounds, vec, strict=True)}

    def project(self, params: Params) -> Params:
        return {k: float(np.clip(params[k], lo, hi)) for k, (lo, hi) in self.bounds.items()}


@dataclass
class Fixed(Space):
    """Values drawn by ``draw(rng) -> dict`` and held fixed during the ascent."""

    draw: Callable[[np.random.Generator], Params]

    def sample(self, rng: np.random.Generator) -> Params:
        return dict(self.draw(rng))

    def to_vector(self, params: Params) -> np.ndarray:
        return np.zeros(0)

    def from_vector(self, vec: np.ndarray, template: Params) -> Params:
        return {}


@dataclass
class Ball(Space):
    """An array ``name`` with ``||x - centre|| <= radius`` (or ``== radius``).

    ``centre`` and ``radius`` are read from the other parameters of the case
    (names), so a case can draw V first and then W in the ball around V.
    ``shape`` is the array shape; draws are uniform in direction with the
    radius fraction ``U^(1/k)`` (``on_sphere=True`` puts them on the sphere).
    """

    name: str
    centre: str
    radius: str
    shape: tuple[int, ...] | str
    on_sphere: bool = False

    def _shape(self, params: Params) -> tuple[int, ...]:
        return params[self.shape].shape if isinstance(self.shape, str) else self.shape

    def sample(self, rng: np.random.Generator) -> Params:
        raise InvalidArgument("Ball.sample needs the other parameters; use it inside Product")

    def sample_given(self, rng: np.random.Generator, params: Params) -> Params:
        shape = self._shape(params)
        u = rng.standard_normal(shape)
        u /= np.linalg.norm(u)
        frac = 1.0 if self.on_sphere else rng.uniform() ** (1.0 / u.size)
        return {self.name: params[self.centre] + frac * float(params[self.radius]) * u}

    def to_vector(self, params: Params) -> np.ndarray:
        return np.asarray(params[self.name], dtype=float).reshape(-1)

    def from_vector(self, vec: np.ndarray, template: Params) -> Params:
        return {self.name: vec.reshape(np.shape(template[self.name]))}

    def project(self, params: Params) -> Params:
        c, r = params[self.centre], float(params[self.radius])
        delta = np.asarray(params[self.name]) - c
        norm = np.linalg.norm(delta)
        if norm == 0:
            return {self.name: params[self.name]}
        if self.on_sphere or norm > r:
            delta = delta * (r / norm)
        return {self.name: c + delta}


@dataclass
class Product(Space):
    """Spaces side by side; later spaces may depend on earlier ones (Ball)."""

    parts: list[Space] = field(default_factory=list)

    def __init__(self, *parts: Space) -> None:
        self.parts = list(parts)

    def sample(self, rng: np.random.Generator) -> Params:
        params: Params = {}
        for p in self.parts:
            params.update(p.sample_given(rng, params) if isinstance(p, Ball) else p.sample(rng))
        return params

    def to_vector(self, params: Params) -> np.ndarray:
        return np.concatenate([p.to_vector(params) for p in self.parts])

    def from_vector(self, vec: np.ndarray, template: Params) -> Params:
        out, i = dict(template), 0
        for p in self.parts:
            k = p.to_vector(template).size
            out.update(p.from_vector(vec[i:i + k], template))
            i += k
        return out

    def project(self, params: Params) -> Params:
        out = dict(params)
        for p in self.parts:
            out.update(p.project(out))
        return out


@dataclass
class SearchResult:
    """Cases visited by the search: the random draws and the refined optima."""

    random: list[Params]
    refined: list[Params]
    best_ratio: float
    note: str = ""


def worst_case_search(ratio: Callable[[Params], float], space: Space, *,
                      rng: np.random.Generator, cases: int, restarts: int, iters: int,
                      gradient: Callable[[Params], Mapping[str, Any]] | None = None,
                      max_fd_dim: int = 24) -> SearchResult:
    """Maximise ``ratio`` over ``space``: ``cases`` random draws, then local
    ascent from the ``restarts`` best draws. Returns every visited case that
    the caller should evaluate (random draws and the refined end points)."""
    draws = [space.project(space.sample(rng)) for _ in range(cases)]
    scores = np.array([_safe(ratio, p) for p in draws])
    order = np.argsort(-scores)[:restarts]
    refined, note = [], ""
    for i in order:
        start = draws[int(i)]
        dim = space.to_vector(start).size
        if dim == 0:
            continue
        if gradient is not None:
            refined.append(_projected_ascent(ratio, gradient, space, start, iters))
        elif dim <= max_fd_dim:
            refined.append(_lbfgs(ratio, space, start, iters))
        else:
            note = (f"no local ascent: {dim} free numbers and no gradient given "
                    f"(finite differences are used up to {max_fd_dim})")
    best = max([_safe(ratio, p) for p in refined] + [float(scores.max(initial=-np.inf))])
    return SearchResult(draws, refined, best, note)


def _safe(ratio: Callable[[Params], float], p: Params) -> float:
    try:
        r = float(ratio(p))
    except (ArithmeticError, ValueError):
        return -np.inf
    return r if np.isfinite(r) else -np.inf


def _lbfgs(ratio: Callable[[Params], float], space: Space, start: Params, iters: int) -> Params:
    def objective(vec: np.ndarray) -> float:
        r = _safe(ratio, space.project(space.from_vector(vec, start)))
        return -r if np.isfinite(r) else 1e300

    x0 = space.to_vector(start)
    bounds = None
    if isinstance(space, Box):
        bounds = list(space.bounds.values())
    res = optimize.minimize(objective, x0, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": iters, "ftol": 1e-15, "gtol": 1e-12})
    best = space.project(space.from_vector(res.x, start))
    return best if _safe(ratio, best) >= _safe(ratio, start) else start


def _projected_ascent(ratio: Callable[[Params], float],
                      gradient: Callable[[Params], Mapping[str, Any]], space: Space,
                      start: Params, iters: int) -> Params:
    current, value, step = start, _safe(ratio, start), 1.0
    for _ in range(iters):
        grads = gradient(current)
        scale = max(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())), 1e-300)
        while step > 1e-12:
            trial = dict(current)
            for k, g in grads.items():
                trial[k] = np.asarray(current[k]) + step * np.asarray(g) / scale
            trial = space.project(trial)
            new = _safe(ratio, trial)
            if new > value:
                current, value, step = trial, new, step * 1.5
                break
            step *= 0.5
        else:
            break
    return current
