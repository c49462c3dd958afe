"""One way to seed every source of randomness: a ``seed=`` argument.

Every function or class in ``rnnkit`` that draws random numbers takes
``seed=``: an ``int`` (the same int gives the same numbers on every run) or an
already-made generator, which is used as it is so that one stream can feed
several calls. Nothing in the package touches numpy's or torch's global random
state, except inside :func:`seeded_torch`, which restores it on the way out.

* :func:`numpy_rng` turns a seed into a ``np.random.Generator``;
* :func:`torch_generator` turns a seed into a ``torch.Generator``;
* :func:`seeded_torch` is for torch code that only reads the global generator
  (``nn.Dropout``, the default init of ``nn.RNN`` or ``nn.Linear``): it forks
  the global state, seeds it, and puts it back afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

from .shapes import check_seed

__all__ = ["numpy_rng", "torch_generator", "seeded_torch"]

_TORCH_SEED_MAX = 2**64 - 1


def numpy_rng(seed: int | np.random.Generator) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for an int; a ``Generator`` passes through."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed("seed", seed))


def torch_generator(seed: int | torch.Generator) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``; a Generator passes through."""
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(_torch_seed(seed))


def _torch_seed(seed: object) -> int:
    seed = check_seed("seed", seed)
    if seed > _TORCH_SEED_MAX:
        raise ValueError(f"seed must be <= 2**64 - 1 for torch; got {seed}")
    return seed


@contextlib.contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Run a block with torch's global CPU generator seeded, then restore it.

    >>> with seeded_torch(0):
    ...     a = torch.rand(2)
    >>> with seeded_torch(0):
    ...     b = torch.rand(2)
    >>> bool((a == b).all())
    True
    """
    seed = _torch_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
