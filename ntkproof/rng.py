"""The one place where random generators are made.

Every random object in ntkproof comes from a seed through this module:

* :func:`claim_seed` derives a claim's seed from the run seed and the claim id,
  so running one claim alone draws exactly what it drew inside a full run;
* :func:`generator` gives a numpy ``Generator`` (PCG64) for array draws; arrays
  are drawn in numpy and moved to the backend, so all backends see the same
  numbers;
* :func:`spawn` splits a seed into independent child seeds (one per case,
  width or restart) with numpy's ``SeedSequence``;
* :func:`draw` takes a hypothesis strategy and returns one value determined
  by the seed, for structural draws (widths, dimensions, activations).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, TypeVar

import numpy as np

__all__ = ["claim_seed", "generator", "spawn", "draw", "unit_vectors"]

T = TypeVar("T")


def claim_seed(run_seed: int, claim_id: str) -> int:
    """A 63-bit seed determined by ``run_seed`` and ``claim_id`` alone.

    >>> claim_seed(0, "taylor_remainder.tanh") == claim_seed(0, "taylor_remainder.tanh")
    True
    """
    digest = hashlib.sha256(f"{int(run_seed)}/{claim_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int) -> np.random.Generator:
    """A numpy generator seeded by ``seed`` (keyword-free on purpose: one argument)."""
    return np.random.Generator(np.random.PCG64(int(seed)))


def spawn(seed: int, n: int) -> list[int]:
    """``n`` independent child seeds of ``seed`` (stable across numpy versions)."""
    children = np.random.SeedSequence(int(seed)).spawn(int(n))
    return [int(c.generate_state(2, np.uint32).astype(np.uint64) @ np.array(
        [1, 2**32], dtype=np.uint64)) >> 1 for c in children]


def draw(strategy: Any, *, seed: int) -> Any:
    """One value of a hypothesis ``strategy``, determined by ``seed``.

    Hypothesis drives structural draws (which widths, which dimension) so that
    claims can state their case space as strategies; the draw itself is
    deterministic in the seed and does not use hypothesis' database.
    """
    # Lazy on purpose: `import ntkproof` loads this module, and hypothesis (a core
    # dependency) adds 55-95 ms to it (measured with -X importtime); only draw() needs it.
    from hypothesis.control import BuildContext  # noqa: PLC0415 - heavy import, only for draw()
    from hypothesis.internal.conjecture.data import (  # noqa: PLC0415 - heavy, as above
        ConjectureData,
    )

    # ConjectureData is hypothesis' choice source; seeding its Random makes the
    # draw a pure function of the seed, without the example database.
    data = ConjectureData(random=random.Random(int(seed)))
    with BuildContext(data, is_final=True, wrapped_test=draw):
        return data.draw(strategy)


def unit_vectors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of R^d, shape (n, d)."""
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)
