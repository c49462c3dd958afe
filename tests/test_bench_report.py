"""The pure parts of benchmarks/report.py (what `make bench` writes): tables, verdicts.

Nothing here times anything: the report's numbers are measured by `make bench`
only; these tests check how it formats them and how it judges a target.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "bench_report", ROOT / "benchmarks" / "report.py"
)
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


@pytest.mark.parametrize(
    "value,limit,higher,expected",
    [
        (29.9, 30.0, False, "met"),
        (30.0, 30.0, False, "met"),  # the limit itself is within it
        (30.1, 30.0, False, "missed"),
        (10.0, 10.0, True, "met"),
        (9.99, 10.0, True, "missed"),
        (12.0, 10.0, True, "met"),
        (None, 10.0, True, "not run"),
    ],
)
def test_verdict(value, limit, higher, expected):
    assert report.verdict(value, limit, higher_is_better=higher) == expected


def test_markdown_table_aligns_numbers_right_and_escapes_pipes():
    table = report.markdown_table(
        ("notebook", "time", "ratio"),
        [("a|b.ipynb", "12.3 s", "1.5x"), ("c.ipynb", "-", "0.9x")],
    )
    assert table.splitlines() == [
        "| notebook | time | ratio |",
        "| :--- | ---: | ---: |",
        "| a\\|b.ipynb | 12.3 s | 1.5x |",
        "| c.ipynb | - | 0.9x |",
    ]


def test_markdown_table_refuses_a_short_row():
    with pytest.raises(ValueError, match="row 1 has 1 cells; the header has 2"):
        report.markdown_table(("a", "b"), [(1, 2), (3,)])


@pytest.mark.parametrize(
    "seconds,text",
    [(0.421, "0.42 s"), (12.34, "12.3 s"), (245, "4 min 05 s"), (None, "-")],
)
def test_fmt_seconds(seconds, text):
    assert report.fmt_seconds(seconds) == text


def test_median():
    assert report.median([3.0, 1.0, 2.0]) == 2.0
    assert report.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError):
        report.median([])


def test_render_summarises_targets_and_names_failed_and_skipped_parts():
    results = {p: None for p in report.PARTS}
    results["numpy"] = {
        "sections": [("numpy BPTT throughput", "| a |\n| ---: |\n| 1 |")],
        "targets": [
            {
                "target": "numpy BPTT >= 10x",
                "measured": "12.0x",
                "value": 12.0,
                "limit": 10.0,
                "higher": True,
            },
            {"target": "chapter <= 30 s", "measured": "41 s", "value": 41, "limit": 30},
        ],
    }
    results["forecasting"] = {
        "sections": [],
        "targets": [
            {
                "target": "RNN vs persistence",
                "measured": "0.95",
                "value": 0.95,
                "limit": 1.0,
                "comparison": True,
            }
        ],
    }
    results["seq2seq"] = {"error": "Traceback ...\nRuntimeError: boom"}
    text = report.render(results, "a test machine", "today", 1.0)
    summary = text.split("## Targets")[1].split("##")[0]
    assert "| numpy BPTT >= 10x | 12.0x | met |" in summary
    assert "| chapter <= 30 s | 41 s | missed |" in summary
    assert "| RNN vs persistence | 0.95 | better |" in summary  # a comparison
    assert "**Failed**: seq2seq" in text and "RuntimeError: boom" in text
    assert "Not run this time: notebooks, book, tests, charlm," in text
    assert "## numpy BPTT throughput" in text


def test_numpy_hidden_section_is_labelled_context_and_lists_every_h():
    sweep = {
        "peak_gflops": {"cpu": 48.0, "wall": 40.0},
        "rows": [
            {
                "h": h,
                "batch": 96,
                "flops_per_token": 6 * h * (h + 65),
                "tokens_per_s_cpu": tps,
                "base_tokens_per_s_cpu": base,
                "ratio_cpu": tps / base,
                "gflops_cpu": tps * 6 * h * (h + 65) / 1e9,
                "share_cpu": tps * 6 * h * (h + 65) / 1e9 / 48.0,
            }
            for h, tps, base in ((100, 240_000.0, 20_000.0), (512, 20_000.0, 2_000.0))
        ],
    }
    title, text = report.numpy_hidden_section(sweep)
    assert title == "numpy BPTT vs hidden size (context)"
    assert "not judged" in text and "48.0 GFLOP/s" in text
    lines = text.splitlines()
    # h = 100: 99,000 FLOPs/token, 240,000 tokens/s -> 23.76 GFLOP/s, 49.5 % of 48.
    assert any(
        line.startswith("| 100 | 96 |") and "| 12.0x | 23.8 | 50% |" in line
        for line in lines
    )
    # h = 512: 1,772,544 FLOPs/token, 20,000 tokens/s -> 35.45 GFLOP/s, 73.9 %.
    assert any(
        line.startswith("| 512 | 96 |") and "| 10.0x | 35.5 | 74% |" in line
        for line in lines
    )
