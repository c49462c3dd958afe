"""Figures the chapters share: frequency plots and RNN diagrams, drawn offline.

Every function draws on a Matplotlib ``Axes`` it is given (or a new one) and
returns it, so a notebook can place figures side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .shapes import check_bool, check_positive_int

__all__ = ["plot_zipf", "draw_unrolled_rnn", "draw_io_styles"]

_COLOURS = {"x": "#FFF1E6", "h": "#E2ECE9", "o": "#E3F2FD", "c": "#FDE2E4"}


def _check_ax(name: str, ax: object) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(
            f"{name} must be a Matplotlib Axes or None; got {type(ax).__name__}"
        )


def _ax(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_zipf(
    freq_lists: Sequence[Sequence[int]],
    labels: Sequence[str],
    *,
    ax: Axes | None = None,
) -> Axes:
    """Log–log plot of frequency against rank, one line per list of sorted counts."""
    for name, v in (("freq_lists", freq_lists), ("labels", labels)):
        if isinstance(v, str) or not isinstance(v, Sequence) or not v:
            raise TypeError(f"{name} must be a non-empty list; got {v!r:.40}")
    _check_ax("ax", ax)
    if len(freq_lists) != len(labels):
        raise ValueError(
            f"got {len(freq_lists)} frequency lists but {len(labels)} labels"
        )
    ax = _ax(ax, (5.5, 3.8))
    for freqs, label in zip(freq_lists, labels):
        f = np.asarray(freqs, dtype=float)
        ax.loglog(np.arange(1, f.size + 1), f, label=label)
    ax.set_xlabel("rank r")
    ax.set_ylabel("frequency n(r)")
    ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return ax


def _node(
    ax: Axes,
    xy: tuple[float, float],
    text: str,
    kind: str,
    w: float = 0.7,
    h: float = 0.5,
) -> None:
    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.05",
            fc=_COLOURS[kind],
            ec="#555555",
            lw=1.0,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(
    ax: Axes,
    a: tuple[float, float],
    b: tuple[float, float],
    label: str = "",
    colour: str = "#333333",
) -> None:
    ax.add_patch(
        FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, lw=1.2, color=colour)
    )
    if label:
        ax.text(
            (a[0] + b[0]) / 2,
            (a[1] + b[1]) / 2 + 0.12,
            label,
            ha="center",
            fontsize=8,
            color=colour,
        )


def draw_unrolled_rnn(
    T: int = 4, *, ax: Axes | None = None, backward: bool = False
) -> Axes:
    """The RNN unrolled over ``T`` steps: ``x_t → h_t → o_t`` with ``h_{t-1} → h_t``.

    The same weight names label every copy, to show that parameters are shared
    across time. With ``backward=True`` red arrows show the gradient flowing
    from each loss back through the hidden states (BPTT).
    """
    T = check_positive_int("T", T)
    backward = check_bool("backward", backward)
    _check_ax("ax", ax)
    ax = _ax(ax, (1.9 * T + 1.2, 3.4))
    for t in range(1, T + 1):
        x = 1.6 * t
        _node(ax, (x, 0), f"$x_{t}$", "x")
        _node(ax, (x, 1.3), f"$h_{t}$", "h")
        _node(ax, (x, 2.6), f"$o_{t}$", "o")
        _arrow(ax, (x, 0.3), (x, 1.0))
        ax.text(x + 0.08, 0.62, r"$W_{xh}$", fontsize=8)
        _arrow(ax, (x, 1.6), (x, 2.3))
        ax.text(x + 0.08, 1.92, r"$W_{ho}$", fontsize=8)
        if backward:
            _arrow(ax, (x - 0.25, 2.3), (x - 0.25, 1.6), colour="#C0392B")
    for t in range(0, T + 1):
        x = 1.6 * t
        if t == 0:
            _node(ax, (x, 1.3), "$h_0$", "h")
        if t < T:
            _arrow(ax, (x + 0.4, 1.3), (x + 1.2, 1.3), r"$W_{hh}$")
            if backward:
                _arrow(ax, (x + 1.2, 1.15), (x + 0.4, 1.15), colour="#C0392B")
    ax.set_xlim(-0.6, 1.6 * T + 0.6)
    ax.set_ylim(-0.5, 3.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_io_styles(*, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Three panels: many-to-one, many-to-many and sequence-to-sequence."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    if not isinstance(axes, (Sequence, np.ndarray)) or len(axes) != 3:
        raise ValueError(f"axes must be 3 Matplotlib Axes or None; got {axes!r:.60}")
    for i, a in enumerate(axes):
        _check_ax(f"axes[{i}]", a)

    def chain(
        ax: Axes,
        xs: Sequence[float],
        outputs: Sequence[float],
        inputs: Sequence[float],
        kind: str = "h",
    ) -> None:
        for i, x in enumerate(xs):
            _node(ax, (x, 1.2), "", kind, w=0.5, h=0.4)
            if i:
                _arrow(ax, (xs[i - 1] + 0.28, 1.2), (x - 0.28, 1.2))
            if x in inputs:
                _node(ax, (x, 0), "x", "x", w=0.5, h=0.4)
                _arrow(ax, (x, 0.22), (x, 0.98))
            if x in outputs:
                _node(ax, (x, 2.4), "y", "o", w=0.5, h=0.4)
                _arrow(ax, (x, 1.42), (x, 2.18))

    xs = [0, 1, 2, 3]
    chain(axes[0], xs, outputs=[3], inputs=xs)
    axes[0].set_title("many-to-one\n(sentiment of a sentence)")
    chain(axes[1], xs, outputs=xs, inputs=xs)
    axes[1].set_title("many-to-many\n(a tag or next token per step)")
    enc, dec = [0, 1, 2], [3.4, 4.4, 5.4]
    chain(axes[2], enc, outputs=[], inputs=enc)
    chain(axes[2], dec, outputs=dec, inputs=[], kind="c")
    _arrow(axes[2], (2.28, 1.2), (3.12, 1.2), "context")
    axes[2].set_title("sequence-to-sequence\n(encoder, then decoder)")
    for ax in axes:
        ax.set_xlim(-0.6, 6.0 if ax is axes[2] else 3.6)
        ax.set_ylim(-0.4, 2.8)
        ax.set_aspect("equal")
        ax.axis("off")
    return axes
