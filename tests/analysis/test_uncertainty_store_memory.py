"""A study store on disk keeps a small buffer pool (the blocks it has written do not stay in memory as the
file grows); a store in memory keeps the larger limit its blocks need."""

from __future__ import annotations

import duckdb

from mine2magnet.analysis.uncertainty.draw_store import (
    IN_MEMORY_STORE_LIMIT,
    STORE_MEMORY_LIMIT,
    DrawOutcome,
    DrawStore,
)


def _limit_mb(store: DrawStore) -> float:
    (text,) = store.con.execute("SELECT current_setting('memory_limit')").fetchone()
    number, unit = text.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "MB": 1e6 / 2**20}.get(unit, 1.0)


def test_file_store_has_the_small_limit_and_memory_store_the_large(tmp_path) -> None:
    on_disk = DrawStore(tmp_path / "s.duckdb")
    in_memory = DrawStore(None)
    try:
        want = float(STORE_MEMORY_LIMIT.removesuffix("MB")) * 1e6 / 2**20  # DuckDB reports MiB
        assert abs(_limit_mb(on_disk) - want) < 0.1
        assert _limit_mb(in_memory) > _limit_mb(on_disk)
        assert IN_MEMORY_STORE_LIMIT != STORE_MEMORY_LIMIT
    finally:
        on_disk.close()
        in_memory.close()


def test_a_store_larger_than_its_buffer_pool_keeps_every_row(tmp_path) -> None:
    store = DrawStore(tmp_path / "s.duckdb")
    rows = [(2024 + i % 17, f"kpi_{i % 13}", f"s{i % 12}", float(i)) for i in range(1239)]
    for start in range(0, 2000, 4):  # ~2.5 M rows, more than the buffer pool holds
        store.append(DrawOutcome(d, rows, None, 0.1, "w") for d in range(start, start + 4))
    store.close()
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    try:
        n, total = con.execute("SELECT count(*), sum(value) FROM outputs").fetchone()
        assert n == 2000 * 1239 and total == 2000 * sum(r[3] for r in rows)
        assert con.execute("SELECT count(DISTINCT draw) FROM draws").fetchone()[0] == 2000
    finally:
        con.close()
