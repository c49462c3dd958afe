"""Chapter 5's marker task over seeds: vanilla RNN, GRU, LSTM and their starts.

Run::

    python benchmarks/bench_gated.py            # about 4 min on one core
    python benchmarks/bench_gated.py --quick    # seeds 0-1 only, about 1 min
    python benchmarks/bench_gated.py --json _build/bench_gated.json

The chapter trains each cell once (seed 0) within its 30 s budget; this script
repeats its comparisons over seeds and budgets, so that what the chapter says
about other seeds is measured:

* **cells**: the chapter's three cells with about the same number of weights
  (vanilla ``h = 32``, GRU ``h = 15``, LSTM ``h = 12``; the gated ones with
  ``keep_bias=3``) at lags 10, 20 and 40, 200 Adam updates of 64 sequences, lr
  3e-3, for each seed: test accuracy on 2,000 held-out sequences;
* **no keep bias**: the same GRU and LSTM with torch's default gate biases
  (``keep_bias=0``) at lag 40, with the chapter's 200 updates and with 1,000;
* **orthogonal**: the vanilla cell with an orthogonal ``W_hh`` at lag 40 over 16
  seeds, counted by outcome (100 %, 50 %: two pairs of markers told apart, ...).

It ends by checking what the chapter's text says about these runs and exits
with status 1 if a claim is missed (not with ``--quick``, whose two seeds are
too few to judge a median).

Everything runs in one process with ``torch.set_num_threads(1)``. Chance is
25 % (4 markers); a guesser's accuracy on 2,000 sequences has sd 1 %.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnkit.datasets import char_corpus  # noqa: E402
from rnnkit.markers import MarkerRNN, marker_accuracy, train_marker_model  # noqa: E402
from rnnkit.rnn_torch import count_parameters  # noqa: E402

K = 4
CELLS = {  # the chapter's three cells: name -> MarkerRNN options
    "vanilla RNN": dict(hidden_size=32),
    "GRU": dict(hidden_size=15, cell="gru", keep_bias=3.0),
    "LSTM": dict(hidden_size=12, cell="lstm", keep_bias=3.0),
}


def run(corpus, options: dict, lag: int, seed: int, updates: int = 200) -> float:
    """Train a fresh MarkerRNN as chapter 5 does; its held-out accuracy."""
    V = corpus.vocab_size
    model = MarkerRNN(V, K, **options, seed=seed)
    train_marker_model(
        model,
        corpus.train_ids,
        V,
        lag,
        updates=updates,
        batch_size=64,
        n_markers=K,
        lr=3e-3,
        seed=seed,
    )
    return marker_accuracy(model, corpus.valid_ids, V, lag, n_markers=K, seed=1000)


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="seeds 0-1, 4 orthogonal")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    corpus = char_corpus()
    V = corpus.vocab_size
    seeds = range(2) if args.quick else range(5)
    lags = (10, 20, 40)
    start = time.process_time()
    out: dict = {"seeds": list(seeds), "lags": list(lags)}

    out["params"] = {
        n: count_parameters(MarkerRNN(V, K, **o)) for n, o in CELLS.items()
    }
    print("weights:", out["params"])
    print(f"\ncells, 200 updates: test accuracy (%) for seeds {list(seeds)}")
    out["cells"] = {}
    for name, options in CELLS.items():
        out["cells"][name] = {}
        for lag in lags:
            accs = [run(corpus, options, lag, s) for s in seeds]
            out["cells"][name][lag] = accs
            print(
                f"  {name:12} L = {lag:2}: "
                + " ".join(f"{100 * a:5.1f}" for a in accs)
                + f"   median {100 * np.median(accs):5.1f}",
                flush=True,
            )

    print("\ngated cells without keep_bias (torch's default gate biases), L = 40")
    out["no_keep_bias"] = {}
    for name in ("GRU", "LSTM"):
        options = dict(CELLS[name], keep_bias=0.0)
        for updates in (200, 1000):
            accs = [run(corpus, options, 40, s, updates) for s in seeds[:2]]
            out["no_keep_bias"][f"{name}, {updates} updates"] = accs
            print(
                f"  {name:5} {updates:5} updates: "
                + " ".join(f"{100 * a:5.1f}" for a in accs),
                flush=True,
            )

    n_orth = 4 if args.quick else 16
    accs = [
        run(corpus, dict(hidden_size=32, init="orthogonal"), 40, s)
        for s in range(n_orth)
    ]
    out["orthogonal_40"] = accs
    print(f"\nvanilla, orthogonal W_hh, L = 40, seeds 0-{n_orth - 1}:")
    print("  " + " ".join(f"{100 * a:.0f}" for a in accs))
    print(
        f"  {sum(a > 0.95 for a in accs)} of {n_orth} above 95 %, "
        f"{sum(0.4 < a < 0.6 for a in accs)} near 50 %, "
        f"{sum(a < 0.3 for a in accs)} at chance"
    )
    out["cpu_s"] = time.process_time() - start
    print(f"\n{out['cpu_s']:.0f} s of CPU")

    # what chapter 5's text says about other seeds and budgets
    cells40 = {name: out["cells"][name][40] for name in CELLS}
    out["claims"] = {
        "the gated cells carry lag 40 (median over seeds > 90 %)": all(
            np.median(cells40[n]) > 0.9 for n in ("GRU", "LSTM")
        ),
        "the vanilla cell is at chance at lag 40 on every seed": all(
            a < 0.3 for a in cells40["vanilla RNN"]
        ),
        "without keep_bias the gated cells stay at chance at lag 40, even with "
        "1000 updates": all(a < 0.3 for v in out["no_keep_bias"].values() for a in v),
        "most orthogonal starts learn lag 40 (> 95 %)": 2 * sum(a > 0.95 for a in accs)
        > len(accs),
        "some orthogonal starts stop near 50 % (two pairs of markers)": any(
            0.4 < a < 0.6 for a in accs
        ),
    }
    out["quick"] = args.quick
    print(
        "\nchapter 5's claims"
        + (" (--quick: too few seeds to judge)" if args.quick else "")
        + ":"
    )
    for claim, met in out["claims"].items():
        print(f"  {'met   ' if met else 'MISSED'} {claim}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    result = main()
    raise SystemExit(0 if result["quick"] or all(result["claims"].values()) else 1)
