"""The pure parts of `make bench` (bench/web.py): reading wrk's result, judging a row, and
rewriting its section of docs/performance.md without losing the other tables. No timings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "bench" / "web.py"


@pytest.fixture(scope="module")
def web():
    spec = importlib.util.spec_from_file_location("bench_web", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


WRK_OUTPUT = """Running 6s test @ http://127.0.0.1:5000
  2 threads and 16 connections
BENCH_JSON {"requests": 1200, "duration_us": 6000000, "bytes": 1, "p50_us": 12000, \
"p90_us": 20000, "p99_us": 45000, "mean_us": 13000.5, "max_us": 60000, "bad": 3, \
"bad_example": "302 /auth/login", "errors": {"connect": 0, "read": 0, "write": 0, \
"status": 1, "timeout": 2}}
"""


def test_wrk_result_line_is_read_and_every_failure_counts(web):
    result = web.parse_wrk(WRK_OUTPUT)
    assert result["requests"] == 1200
    assert result["p99_us"] == 45000
    window = web.Window(
        requests=1200,
        seconds=6,
        rps=200,
        p50_ms=12,
        p99_ms=45,
        mean_ms=13,
        max_ms=60,
        bad=result["bad"],
        bad_example=result["bad_example"],
        errors=result["errors"],
        drained_s=0.0,
        cpu_ms=5,
        db_cpu_ms=None,
    )
    # A sign-in redirect (a dead session), a 5xx and the timeouts all fail the row.
    assert web.failures(window) == 6


def test_wrk_without_a_result_line_is_an_error(web):
    with pytest.raises(RuntimeError, match="no result line"):
        web.parse_wrk("unable to connect to 127.0.0.1:5000 Connection refused\n")


def _page(**overrides):
    page = {
        "name": "inbox",
        "label": "team inbox",
        "connections": 16,
        "rps": 100.0,
        "ratio": 0.3,
        "p50_ms": 10.0,
        "p99_ms": 50.0,
        "cpu_ms": 10.0,
        "db_cpu_ms": None,
        "failures": 0,
        "rows": 8,
        "target": "ratio ≥ 0.20",
        "reps": [],
    }
    return page | overrides


def test_targets_ratio_p99_flat_cost_and_failures(web):
    assert web.met(_page(), None)[0] == "✅"
    assert web.met(_page(ratio=0.1), None)[1] == ["ratio"]
    assert web.met(_page(connections=4, target="p99 ≤ 100 ms", p99_ms=150), None)[1] == ["p99"]
    # 100k's CPU per request within 15% of 10k's.
    assert web.met(_page(cpu_ms=11.4), base_cpu=10.0)[1] == []
    assert web.met(_page(cpu_ms=11.6), base_cpu=10.0)[1] == ["flat cost"]
    assert web.met(_page(failures=2), None)[0] == "❌ FAILED (2)"
    assert web.met(_page(target=""), None)[0] == ""


def test_size_labels(web):
    assert [web.size_label(n) for n in (3, 2000, 10_000, 100_000, 1_000_000)] == [
        "3",
        "2k",
        "10k",
        "100k",
        "1M",
    ]


DOC = """# Performance

Intro of the old document.

## Foundation pages (`make bench`)

Old table.
"""


def test_first_rewrite_puts_the_section_under_the_title_and_keeps_the_old_text(web):
    out = web.rewrite_section(DOC, "sqlite-10k", "### SQLite, 10k\n\n| a |")
    assert out.startswith("# Performance\n\n" + web.START)
    assert out.index(web.END) < out.index("## Earlier figures (in-process")
    assert "Intro of the old document." in out
    assert "### Foundation pages" in out  # one level down, under the new heading
    assert "| a |" in out


def test_rewrite_replaces_one_table_and_keeps_the_others_in_order(web):
    doc = web.rewrite_section(DOC, "postgresql-10k", "PG 10k first")
    doc = web.rewrite_section(doc, "sqlite-100k", "SQLite 100k first")
    doc = web.rewrite_section(doc, "sqlite-10k", "SQLite 10k")
    doc = web.rewrite_section(doc, "postgresql-10k", "PG 10k second")
    assert "PG 10k first" not in doc
    order = [doc.index(t) for t in ("SQLite 10k", "SQLite 100k first", "PG 10k second")]
    assert order == sorted(order)
    assert doc.count(web.START) == 1
    assert doc.count("## Earlier figures (in-process") == 1
    assert doc.count("Old table.") == 1
