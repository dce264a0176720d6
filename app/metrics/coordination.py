"""Measures: see docs/metrics.md (filled by the metrics work)."""
