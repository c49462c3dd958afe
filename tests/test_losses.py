"""Tests for rnnkit.losses: the perplexity, the numpy losses and the torch masked loss.

Each loss is checked against a reference written independently of it (explicit
loops, PyTorch's own losses) and each gradient against finite differences or
autograd; then the numpy and torch masked losses must refuse the same bad
inputs with the same kind of message.
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.losses import (
    binary_cross_entropy,
    masked_cross_entropy,
    perplexity,
    sequence_mask,
    softmax_cross_entropy,
)

TOL64 = 1e-12  # float64 round-off on sums of a few dozen terms
TOL32 = 1e-6  # float32 round-off on sums of a few dozen terms
FD_EPS, FD_TOL = 1e-6, 1e-8  # central differences in float64: error ~ eps^2 + 1e-16/eps


def random_problem(T=4, B=3, V=5, seed=0):
    """Logits (T, B, V) float64, targets (T, B) and a (T, B) bool mask, lengths."""
    rng = np.random.default_rng(seed)
    O = rng.normal(size=(T, B, V)) * 2.0
    Y = rng.integers(0, V, size=(T, B))
    lengths = np.array([T] + list(rng.integers(1, T + 1, size=B - 1)))
    mask = np.arange(T)[:, None] < lengths[None, :]
    return O, Y, mask, lengths


def reference_nll(O, Y):
    """-log softmax(O[t, b])[Y[t, b]], by explicit loops and math.log."""
    T, B, _ = O.shape
    out = np.zeros((T, B))
    for t in range(T):
        for b in range(B):
            row = [float(v) for v in O[t, b]]
            top = max(row)
            log_z = top + math.log(sum(math.exp(v - top) for v in row))
            out[t, b] = log_z - row[Y[t, b]]
    return out


def finite_difference(f, O):
    grad = np.zeros_like(O)
    for idx in np.ndindex(O.shape):
        Op, Om = O.copy(), O.copy()
        Op[idx] += FD_EPS
        Om[idx] -= FD_EPS
        grad[idx] = (f(Op) - f(Om)) / (2 * FD_EPS)
    return grad


# -- perplexity ----------------------------------------------------------------------
def test_perplexity_by_hand():
    assert perplexity(0.0) == 1.0  # always sure and right
    assert perplexity(math.log(28)) == pytest.approx(28.0, rel=1e-12)  # uniform, V=28
    assert perplexity(1.0) == pytest.approx(math.e, rel=1e-15)
    assert perplexity(2) == pytest.approx(math.e**2, rel=1e-15)  # an int is a number


@pytest.mark.parametrize(
    "value",
    [
        np.float64(1.0),
        np.float32(1.0),
        np.array(1.0),
        np.array([1.0]),
        torch.tensor(1.0),
    ],
)
def test_perplexity_takes_one_number_of_any_kind(value):
    assert perplexity(value) == pytest.approx(math.e, rel=1e-6)


@pytest.mark.parametrize(
    "value, error, match",
    [
        (-0.5, ValueError, r"mean_nll must be >= 0.*negative"),
        (float("nan"), ValueError, "mean_nll must be finite"),
        (float("inf"), ValueError, "mean_nll must be finite"),
        (np.array([1.0, 2.0]), ValueError, r"one number.*shape \(2,\)"),
        (torch.ones(2, 2), ValueError, r"one number.*shape \(2, 2\)"),
        (True, TypeError, "mean_nll must be a number"),
        ("1.0", TypeError, "mean_nll must be a number"),
        (None, TypeError, "mean_nll must be a number"),
    ],
)
def test_perplexity_errors(value, error, match):
    with pytest.raises(error, match=match):
        perplexity(value)


def test_perplexity_of_a_diverged_model_is_infinite():
    assert perplexity(1000.0) == math.inf


# -- softmax_cross_entropy (numpy) ---------------------------------------------------
def test_softmax_cross_entropy_uniform_logits_is_log_V():
    loss, dO = softmax_cross_entropy(np.zeros((3, 2, 7)), np.zeros((3, 2), dtype=int))
    assert abs(loss - math.log(7)) < TOL64
    # softmax - onehot over 6 positions: (1/7 - 1) / 6 at the target, 1/42 elsewhere
    assert np.allclose(dO[..., 0], (1 / 7 - 1) / 6, atol=TOL64)
    assert np.allclose(dO[..., 1:], 1 / 42, atol=TOL64)


def test_softmax_cross_entropy_matches_an_explicit_loop():
    O, Y, mask, _ = random_problem(T=5, B=4, V=6, seed=1)
    nll = reference_nll(O, Y)
    loss, _ = softmax_cross_entropy(O, Y)
    assert abs(loss - nll.mean()) < TOL64
    loss_m, _ = softmax_cross_entropy(O, Y, mask)
    assert abs(loss_m - nll[mask].sum() / mask.sum()) < TOL64
    assert abs(loss_m - loss) > 1e-3  # the mask changed which positions count
    # huge logits: the shift by the max keeps it finite and exact
    loss_big, _ = softmax_cross_entropy(O + 1e4, Y)
    assert abs(loss_big - nll.mean()) < 1e-9  # 1e4 shifts leave ~1e-12 relative error


@pytest.mark.parametrize("use_mask", [False, True])
def test_softmax_cross_entropy_gradient_matches_finite_differences(use_mask):
    O, Y, mask, _ = random_problem(T=3, B=3, V=4, seed=2)
    m = mask if use_mask else None
    _, dO = softmax_cross_entropy(O, Y, m)
    num = finite_difference(lambda X: softmax_cross_entropy(X, Y, m)[0], O)
    assert np.abs(dO - num).max() < FD_TOL
    if use_mask:
        assert (dO[~mask] == 0).all()  # padded positions get no gradient


def test_softmax_cross_entropy_equals_torch_cross_entropy():
    O, Y, mask, _ = random_problem(T=6, B=4, V=9, seed=3)
    loss, dO = softmax_cross_entropy(O, Y, mask)
    O_t = torch.tensor(O, requires_grad=True)
    ref = F.cross_entropy(O_t[torch.tensor(mask)], torch.tensor(Y)[torch.tensor(mask)])
    ref.backward()
    assert abs(loss - ref.item()) < TOL64
    assert np.abs(dO - O_t.grad.numpy()).max() < TOL64


def test_softmax_cross_entropy_shape_and_type_errors():
    O, Y = np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int)
    with pytest.raises(TypeError, match="O must be a floating-point array"):
        softmax_cross_entropy(O.astype(int), Y)
    with pytest.raises(ValueError, match=r"O must have shape \(T, B, V\)"):
        softmax_cross_entropy(O[0], Y)
    with pytest.raises(TypeError, match="Y must be an integer array"):
        softmax_cross_entropy(O, Y.astype(float))
    with pytest.raises(
        ValueError, match=r"Y must have shape \(T=2, B=3\); got \(3, 2\)"
    ):
        softmax_cross_entropy(O, Y.T.copy())
    with pytest.raises(ValueError, match=r"mask must have shape \(T=2, B=3\)"):
        softmax_cross_entropy(O, Y, np.ones((3, 2), dtype=bool))


def test_softmax_cross_entropy_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="no position"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            softmax_cross_entropy(np.zeros((0, 2, 3)), np.zeros((0, 2), dtype=int))


# -- binary_cross_entropy (numpy) ----------------------------------------------------
def test_binary_cross_entropy_by_hand():
    loss, dz = binary_cross_entropy(np.zeros(4), np.array([0, 1, 1, 0]))
    assert abs(loss - math.log(2)) < TOL64  # sigmoid(0) = 1/2 for every label
    assert np.allclose(dz, np.array([0.5, -0.5, -0.5, 0.5]) / 4, atol=TOL64)


@pytest.mark.parametrize("use_mask", [False, True])
def test_binary_cross_entropy_equals_torch_bce_with_logits(use_mask):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(5, 3)) * 3
    y = rng.integers(0, 2, size=(5, 3))
    mask = np.arange(5)[:, None] < np.array([5, 2, 4])[None, :]
    loss, dz = binary_cross_entropy(z, y, mask if use_mask else None)
    z_t = torch.tensor(z, requires_grad=True)
    weight = torch.tensor(mask if use_mask else np.ones_like(mask), dtype=torch.float64)
    per_position = torch.nn.BCEWithLogitsLoss(reduction="none")(
        z_t, torch.tensor(y, dtype=torch.float64)
    )
    ref = (per_position * weight).sum() / weight.sum()
    ref.backward()
    assert abs(loss - ref.item()) < TOL64
    assert np.abs(dz - z_t.grad.numpy()).max() < TOL64
    if not use_mask:
        mean = torch.nn.BCEWithLogitsLoss()(
            torch.tensor(z), torch.tensor(y, dtype=torch.float64)
        )
        assert abs(loss - mean.item()) < TOL64


def test_binary_cross_entropy_is_finite_for_huge_logits():
    z, y = np.array([-1000.0, 1000.0, -1000.0, 1000.0]), np.array([0, 1, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # see the next test
        loss, dz = binary_cross_entropy(z, y)
    assert abs(loss - 2000.0 / 4) < TOL64  # two right for sure (0), two wrong (1000)
    assert np.allclose(dz, np.array([0.0, 0.0, -1.0, 1.0]) / 4, atol=TOL64)


@pytest.mark.parametrize("dtype, z", [(np.float64, -1000.0), (np.float32, -100.0)])
def test_binary_cross_entropy_gradient_does_not_overflow(dtype, z):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary_cross_entropy(np.array([z], dtype=dtype), np.array([1]))


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="y must hold labels 0 or 1"):
        binary_cross_entropy(np.zeros(2), np.array([0, 2]))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        binary_cross_entropy(np.zeros(3), np.array([0, 1]))
    with pytest.raises(TypeError, match="z must be a floating-point array"):
        binary_cross_entropy(np.zeros(2, dtype=int), np.array([0, 1]))
    with pytest.raises(ValueError, match="mask must hold bools or exact 0/1"):
        binary_cross_entropy(np.zeros(2), np.array([0, 1]), np.array([0.5, 1.0]))


# -- sequence_mask (torch) -----------------------------------------------------------
def test_sequence_mask_by_hand():
    m = sequence_mask(torch.tensor([3, 1, 0]), 4)
    assert m.dtype == torch.bool and m.shape == (4, 3)  # (T, B)
    assert m.T.int().tolist() == [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert sequence_mask(torch.tensor([2]), 2).all()  # a length may equal T


def test_sequence_mask_errors():
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, T=2\].*max 3"):
        sequence_mask(torch.tensor([3, 0]), 2)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, T=2\].*min -1"):
        sequence_mask(torch.tensor([-1]), 2)
    with pytest.raises(TypeError, match="lengths must hold integer ids"):
        sequence_mask(torch.tensor([1.0]), 2)
    with pytest.raises(ValueError, match=r"lengths must have shape \(B,\)"):
        sequence_mask(torch.tensor([[1]]), 2)
    with pytest.raises(TypeError, match="lengths must be a torch.Tensor"):
        sequence_mask([1, 2], 2)
    with pytest.raises(ValueError, match="T must be a positive int"):
        sequence_mask(torch.tensor([0]), 0)


# -- masked_cross_entropy (torch) ----------------------------------------------------
def test_masked_cross_entropy_uniform_logits_is_log_V():
    # every class equally likely: -log(1/5) per valid position
    loss = masked_cross_entropy(
        torch.zeros(3, 2, 5), torch.zeros(3, 2, dtype=torch.long), torch.ones(3, 2)
    )
    assert abs(loss.item() - math.log(5)) < TOL32


def test_masked_cross_entropy_equals_ignore_index_and_unpadded_losses():
    g = torch.Generator().manual_seed(0)
    T, B, V, pad = 5, 3, 7, 0
    lengths = torch.tensor([5, 2, 3])
    logits = torch.randn(T, B, V, generator=g)
    targets = torch.randint(1, V, (T, B), generator=g)
    mask = sequence_mask(lengths, T)
    targets[~mask] = pad
    ours = masked_cross_entropy(logits, targets, mask)
    ref = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=pad)
    assert abs(ours.item() - ref.item()) < TOL32
    # each sequence on its own, unpadded: summed, divided by the token count
    total = sum(
        F.cross_entropy(logits[:L, b], targets[:L, b], reduction="sum")
        for b, L in enumerate(lengths.tolist())
    )
    assert abs(ours.item() - total.item() / lengths.sum().item()) < TOL32
    # padded positions really are ignored: change their logits and targets
    logits2, targets2 = logits.clone(), targets.clone()
    logits2[~mask] = 100.0
    targets2[~mask] = V - 1
    assert (
        abs(masked_cross_entropy(logits2, targets2, mask).item() - ours.item()) < TOL32
    )
    # without the mask the loss is a different number
    everything = masked_cross_entropy(logits, targets, torch.ones(T, B)).item()
    assert abs(everything - ours.item()) > 0.01


def test_masked_cross_entropy_gradient_is_zero_at_pads_and_matches_numpy():
    O, Y, mask, _ = random_problem(T=5, B=4, V=6, seed=5)
    logits = torch.tensor(O, requires_grad=True)
    for m in (torch.tensor(mask), torch.tensor(mask, dtype=torch.float64)):
        logits.grad = None
        loss = masked_cross_entropy(logits, torch.tensor(Y), m)
        loss.backward()
        ref_loss, ref_dO = softmax_cross_entropy(O, Y, mask)
        assert abs(loss.item() - ref_loss) < TOL64
        assert np.abs(logits.grad.numpy() - ref_dO).max() < TOL64
        assert (logits.grad[~torch.tensor(mask)] == 0).all()


def test_masked_cross_entropy_shape_errors():
    logits, targets = torch.zeros(2, 1, 3), torch.zeros(2, 1, dtype=torch.long)
    with pytest.raises(
        ValueError, match=r"targets must have shape \(T=2, B=1\); got \(1, 2\)"
    ):
        masked_cross_entropy(logits, targets.T, torch.ones(2, 1))
    with pytest.raises(ValueError, match=r"logits must have shape \(T, B, V\)"):
        masked_cross_entropy(logits[0], targets, torch.ones(2, 1))
    with pytest.raises(ValueError, match=r"mask must have shape \(T=2, B=1\)"):
        masked_cross_entropy(logits, targets, torch.ones(1, 2))
    with pytest.raises(TypeError, match="targets must hold integer ids"):
        masked_cross_entropy(logits, targets.float(), torch.ones(2, 1))


def test_masked_cross_entropy_refuses_integer_logits_like_numpy():
    targets = torch.zeros(2, 1, dtype=torch.long)
    with pytest.raises(TypeError, match="logits must be a floating-point"):
        masked_cross_entropy(
            torch.zeros(2, 1, 3, dtype=torch.long), targets, torch.ones(2, 1)
        )


# -- the numpy and torch masked losses refuse the same inputs ------------------------
T_, B_, V_ = 3, 2, 4
BAD_INPUTS = {
    "target = V": (dict(target=V_), r"ids in \[0, V=4\).*max 4"),
    "target = -1": (dict(target=-1), r"ids in \[0, V=4\).*min -1"),
    "mask 0.5": (dict(mask=0.5), "mask must hold bools or exact 0/1 values.*0.5"),
    "mask 2": (dict(mask=2.0), "mask must hold bools or exact 0/1 values.*2"),
    "mask -1": (dict(mask=-1.0), "mask must hold bools or exact 0/1 values.*-1"),
    "mask NaN": (dict(mask=float("nan")), "mask must hold bools or exact 0/1.*nan"),
    "mask int 2": (dict(mask_int=2), "mask must hold bools or exact 0/1 values.*2"),
    "all-zero mask": (dict(zero_mask=True), "mask selects no position"),
}


def _bad_problem(target=None, mask=None, mask_int=None, zero_mask=False):
    O = np.random.default_rng(6).normal(size=(T_, B_, V_))
    Y = np.ones((T_, B_), dtype=np.int64)
    m = np.ones((T_, B_))
    if target is not None:
        Y[1, 1] = target
    if mask is not None:
        m[2, 0] = mask
    if mask_int is not None:
        m = m.astype(np.int64)
        m[2, 0] = mask_int
    if zero_mask:
        m[:] = 0
    return O, Y, m


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_numpy_and_torch_masked_losses_refuse_the_same_inputs(case):
    kwargs, match = BAD_INPUTS[case]
    O, Y, m = _bad_problem(**kwargs)
    with pytest.raises(ValueError, match=match):
        softmax_cross_entropy(O, Y, m)
    with pytest.raises(ValueError, match=match):
        masked_cross_entropy(torch.tensor(O), torch.tensor(Y), torch.tensor(m))


def test_numpy_and_torch_masked_losses_accept_the_same_masks():
    O, Y, _ = _bad_problem()
    m = np.array([[1, 1], [1, 0], [0, 0]])
    ref = reference_nll(O, Y)[m == 1].mean()
    for mask in (m.astype(bool), m.astype(np.int64), m.astype(np.float32)):
        loss, _ = softmax_cross_entropy(O, Y, mask)
        t_loss = masked_cross_entropy(
            torch.tensor(O), torch.tensor(Y), torch.tensor(mask)
        )
        assert abs(loss - ref) < TOL64 and abs(t_loss.item() - ref) < TOL64
