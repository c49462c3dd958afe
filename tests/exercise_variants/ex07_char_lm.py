"""Plausible bugs in exercise 7 (character LM), each caught by a visible test.

The visible test of ``train_tbptt`` watches every call of the model through hooks
(the window it reads, the state it starts from, the weights before and after the
update), with ``clip`` small enough to change every update; the draws of ``draw``
are counted at three temperatures; ``sample``'s greedy text is compared with
``rnnkit.sampling.sample``.
"""

_TRAIN_HEAD = '''def train_tbptt(
    model, train_ids, *, batch_size, num_steps, steps, lr, clip=1.0, seed=0
):
    """Train model in place with truncated BPTT and SGD; return the `steps` losses."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    rng = numpy_rng(seed)
    losses = []
    while len(losses) < steps:
        state = None
        for X, Y in sequential_batches(train_ids, batch_size, num_steps, seed=rng):
            X, Y = torch.from_numpy(X), torch.from_numpy(Y)
'''

_TRAIN_TAIL = """            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses
"""

_LOSS = """            V = logits.shape[-1]
            loss = F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1))
"""

_DRAW_HEAD = '''def draw(logits, temperature, rng):
    """One id from softmax(logits / temperature); the argmax at temperature 0."""
    scores = torch.as_tensor(logits).detach().double().cpu().numpy()
    if temperature == 0:
        return int(np.argmax(scores))
'''

_TRAIN_TESTS = [
    "test_train_tbptt_visible",
    "test_train_tbptt_outcome",
    "test_train_tbptt_hidden",
]

VARIANTS = {
    "no_detach": {
        "doc": "carries the state into the next window without detaching it",
        "replacements": {
            "train_tbptt": _TRAIN_HEAD
            + """            logits, state = model(X, state)
"""
            + _LOSS
            + """            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
"""
            + _TRAIN_TAIL,
        },
        "failing": _TRAIN_TESTS,
        "feedback": "the state carried into the next window was not detached",
    },
    "state_not_carried": {
        "doc": "starts every window from a zero state (random-partition style)",
        "replacements": {
            "train_tbptt": _TRAIN_HEAD
            + """            logits, _ = model(X)
"""
            + _LOSS
            + """            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
"""
            + _TRAIN_TAIL,
        },
        "failing": _TRAIN_TESTS,
        "feedback": "the state is not carried",
    },
    "no_clip": {
        "doc": "never clips the gradient",
        "replacements": {
            "train_tbptt": _TRAIN_HEAD
            + """            if state is not None:
                state = state.detach()
            logits, state = model(X, state)
"""
            + _LOSS
            + """            optimizer.zero_grad()
            loss.backward()
"""
            + _TRAIN_TAIL,
        },
        "failing": _TRAIN_TESTS,
        "feedback": "the gradient was not clipped",
    },
    "clip_each_entry": {
        "doc": "clips each gradient entry to [-clip, clip] instead of the global norm",
        "replacements": {
            "train_tbptt": _TRAIN_HEAD
            + """            if state is not None:
                state = state.detach()
            logits, state = model(X, state)
"""
            + _LOSS
            + """            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_value_(model.parameters(), clip)
"""
            + _TRAIN_TAIL,
        },
        "failing": _TRAIN_TESTS,
        "feedback": "you clipped each entry of the gradient",
    },
    "temperature_multiplies": {
        "doc": "multiplies the logits by the temperature instead of dividing",
        "replacements": {
            "draw": _DRAW_HEAD
            + """    z = scores * temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
""",
        },
        "failing": ["test_draw_visible", "test_draw_hidden", "test_sample_hidden"],
        "feedback": "you multiplied the logits by the temperature",
    },
    "exp_overflows": {
        "doc": "exponentiates logits / temperature without subtracting the maximum",
        "replacements": {
            "draw": _DRAW_HEAD
            + """    p = np.exp(scores / temperature)
    return int(rng.choice(len(p), p=p / p.sum()))
""",
        },
        "failing": ["test_draw_visible", "test_draw_hidden"],
        "feedback": "subtract the largest score before exp",
    },
    "sample_forgets_state": {
        "doc": "feeds each sampled character back without the state",
        "replacements": {
            "sample": '''def sample(
    model, vocab, prompt, length, *, temperature=1.0, seed=0
):
    """Continue `prompt` by `length` characters drawn from the model."""
    rng = numpy_rng(seed)
    was_training = model.training
    model.eval()
    new = []
    with torch.no_grad():
        X = torch.tensor(vocab.encode(list(prompt)), dtype=torch.long)[:, None]
        logits, state = model(X)
        for i in range(length):
            w = draw(logits[-1, 0], temperature, rng)
            new.append(w)
            logits, state = model(torch.tensor([[w]]))
    model.train(was_training)
    return prompt + "".join(vocab.decode(new))
''',
        },
        "failing": ["test_sample_visible", "test_sample_hidden"],
        "feedback": "the state is not carried: feed each new character with the state",
    },
}
