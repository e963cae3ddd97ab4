"""Shared fixtures of the scenario tests."""

from __future__ import annotations

import pytest

from mine2magnet.chain import PerformanceCache


@pytest.fixture(scope="session")
def flowsheet_cache() -> PerformanceCache:
    """Refinery flowsheet runs shared by every scenario run of the session (each flowsheet/feed runs once)."""
    return PerformanceCache()
