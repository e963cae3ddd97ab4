"""A large study sends larger chunks (fewer store transactions); chunking changes no draw's outputs."""

from __future__ import annotations

import numpy as np

from mine2magnet.analysis.uncertainty import FunctionModel, ishigami, ishigami_inputs, run_study
from mine2magnet.analysis.uncertainty.study import MAX_CHUNK_FACTOR, chunk_size


def test_chunk_size_grows_with_the_study_up_to_its_cap() -> None:
    assert chunk_size(4, 12, 2) == 4  # the report's small sample: both workers busy
    assert chunk_size(4, 10_000, 2) == 4 * MAX_CHUNK_FACTOR
    assert chunk_size(4, 1_000, 2) == 15
    assert chunk_size(256, 10_000, 2) == 256  # a cheap function keeps its own (larger) chunks
    assert chunk_size(0, 5, 1) == 1
    sizes = [chunk_size(4, n, 2) for n in range(0, 5000, 7)]
    assert sizes == sorted(sizes) and min(sizes) == 4 and max(sizes) == 16


def test_larger_chunks_give_the_same_outputs() -> None:
    kw = {"method": "lhs", "draws": 1200, "seed": 3}
    assert chunk_size(2, 1200, 2) > 2  # the pool study below sends larger chunks than its model's 2
    inline = run_study(FunctionModel(ishigami, draws_per_chunk=1), ishigami_inputs(), **kw)
    pool = run_study(
        FunctionModel(ishigami, draws_per_chunk=2), ishigami_inputs(), workers=2, backend="pool", **kw
    )
    a = inline.outputs().sort_values(["draw", "kpi", "year"])[["draw", "value"]].to_numpy()
    b = pool.outputs().sort_values(["draw", "kpi", "year"])[["draw", "value"]].to_numpy()
    assert a.shape == (1200, 2)
    np.testing.assert_array_equal(a, b)
