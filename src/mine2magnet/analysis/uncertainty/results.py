"""A finished study's answers: percentiles by year, probabilities of stated conditions and published claims,
Sobol' and Morris indices, tornado swings, the split by a discrete choice, and convergence diagnostics.

The outputs stay in the study's DuckDB file (or, for a study without a folder, in one data frame) and are
aggregated there, so a large study is never loaded whole. Failed draws are left out of every figure and
counted in ``draws``; Sobol' and Morris indices need every draw of their design and refuse otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from mine2magnet.analysis.uncertainty.conditions import Condition, OutputRef
from mine2magnet.analysis.uncertainty.inputs import Input
from mine2magnet.analysis.uncertainty.sampling import MORRIS_LEVELS, Sample
from mine2magnet.errors import InputError

#: The percentiles of a fan chart.
FAN = (5.0, 50.0, 95.0)

#: Fewest draws a tornado is drawn from (its quintiles hold two draws each).
MIN_TORNADO_DRAWS = 10

#: Confidence level of the intervals reported (probabilities, Sobol' and Morris indices).
CONFIDENCE = 0.95


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927)."""
    if n == 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class StudyResult:
    """What a study holds: its record, inputs and sample, and its outputs (in `path` or `frame`)."""

    meta: dict[str, Any]
    inputs: list[Input]
    sample: Sample
    counts: dict[str, int]
    path: Path | None = None
    frame: pd.DataFrame | None = None
    backend: str = ""
    _ok: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_store(
        cls, store: Any, inputs: Sequence[Input], sample: Sample, backend: str = ""
    ) -> StudyResult:
        """The result of the study in `store` (an in-memory store's outputs are copied out)."""
        meta = store.meta()
        counts = store.counts()
        ok = np.zeros(sample.draws, dtype=bool)
        ok_draws = [d for (d,) in store.con.execute("SELECT draw FROM draws WHERE status = 'ok'").fetchall()]
        ok[np.asarray(ok_draws, dtype=int)] = True
        frame = None if store.path is not None else store.con.execute("SELECT * FROM outputs").df()
        return cls(meta, list(inputs), sample, counts, store.path, frame, backend, ok)

    # access -------------------------------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        if self.path is not None:
            con = duckdb.connect(str(self.path), read_only=True)
            try:
                return con.execute(sql, list(params)).df()
            finally:
                con.close()
        con = duckdb.connect(":memory:")
        try:
            con.register("outputs", self.frame if self.frame is not None else pd.DataFrame())
            return con.execute(sql, list(params)).df()
        finally:
            con.close()

    @property
    def ok(self) -> np.ndarray:
        """Per draw: True when it finished without error."""
        return self._ok if self._ok is not None else np.ones(self.sample.draws, dtype=bool)

    @property
    def draws(self) -> dict[str, int]:
        """Draws of the design, finished ok, failed."""
        return {
            "design": self.sample.draws,
            "ok": self.counts.get("ok", 0),
            "failed": self.counts.get("failed", 0),
        }

    def outputs(self, kpi: str | None = None) -> pd.DataFrame:
        """Tidy outputs (draw, year, kpi, subject, value), all or one KPI's."""
        if kpi is None:
            return self._query("SELECT * FROM outputs ORDER BY draw, kpi, year, subject")
        return self._query("SELECT * FROM outputs WHERE kpi = ? ORDER BY draw, year, subject", [kpi])

    def names(self) -> pd.DataFrame:
        """Every (kpi, subject) the draws gave, with its years and the draws that have it."""
        return self._query(
            "SELECT kpi, subject, min(year) AS first, max(year) AS last, count(DISTINCT draw) AS draws "
            "FROM outputs GROUP BY kpi, subject ORDER BY kpi, subject"
        )

    def vector(self, output: OutputRef | str) -> np.ndarray:
        """One output of every draw, by draw number (NaN where a draw failed or lacks it)."""
        ref = OutputRef.parse(output) if isinstance(output, str) else output
        year = ref.year
        if year is None:
            last = self._query(
                "SELECT max(year) AS y FROM outputs WHERE kpi = ? AND subject = ?", [ref.kpi, ref.subject]
            )
            if last.empty or pd.isna(last["y"].iloc[0]):
                raise InputError(f"the study has no output {ref.text()}; see StudyResult.names()")
            year = int(last["y"].iloc[0])
        got = self._query(
            "SELECT draw, value FROM outputs WHERE kpi = ? AND subject = ? AND year = ?",
            [ref.kpi, ref.subject, year],
        )
        if got.empty:
            raise InputError(f"the study has no output {ref.text()} in {year}; see StudyResult.names()")
        y = np.full(self.sample.draws, np.nan)
        y[got["draw"].to_numpy(dtype=int)] = got["value"].to_numpy(dtype=float)
        return y

    # distributions ------------------------------------------------------------------------------------
    def percentiles(
        self, kpi: str | None = None, subject: str | None = None, q: Sequence[float] = FAN
    ) -> pd.DataFrame:
        """Percentiles `q` (in %), mean and count of each (kpi, subject, year) over the draws that have it."""
        qs = ", ".join(f"quantile_cont(value, {float(p) / 100.0!r}) AS p{p:g}" for p in q)
        where, params = [], []
        if kpi is not None:
            where.append("kpi = ?")
            params.append(kpi)
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        return self._query(
            f"SELECT kpi, subject, year, {qs}, avg(value) AS mean, count(*) AS n FROM outputs {cond} "
            "GROUP BY kpi, subject, year ORDER BY kpi, subject, year",
            params,
        )

    def ranges(
        self, kpis: Sequence[str] | None = None, subject: str = "total"
    ) -> dict[str, dict[int, tuple]]:
        """``{kpi: {year: (p5, p50, p95)}}`` of `subject` (default the total) for each KPI that has it."""
        table = self.percentiles(subject=subject)
        out: dict[str, dict[int, tuple]] = {}
        for row in table.itertuples(index=False):
            if kpis is not None and row.kpi not in kpis:
                continue
            out.setdefault(str(row.kpi), {})[int(row.year)] = (float(row.p5), float(row.p50), float(row.p95))
        return out

    # conditions and claims ----------------------------------------------------------------------------
    def probability(self, condition: Condition | str) -> dict[str, Any]:
        """The share of draws satisfying `condition`, with its Wilson 95 % interval.

        In a draw, the condition must hold in every year of its window (``every``) or in one (``any``); a
        year of the window the draw has no output for does not satisfy it. Failed draws are left out.
        """
        cond = Condition.parse(condition) if isinstance(condition, str) else condition
        got = self._query(
            "SELECT draw, year, value FROM outputs WHERE kpi = ? AND subject = ?", [cond.kpi, cond.subject]
        )
        if got.empty:
            raise InputError(
                f"condition {cond.text()!r}: the study has no output {cond.kpi}[{cond.subject}]; "
                "see StudyResult.names()"
            )
        first, last = int(got["year"].min()), int(got["year"].max())
        start = cond.start if cond.start is not None else first
        end = cond.end if cond.end is not None else last
        if start < first or end > last:
            raise InputError(
                f"condition {cond.text()!r}: the study's {cond.kpi}[{cond.subject}] covers {first}-{last}, "
                f"not the whole window {start}-{end}"
            )
        window = got[(got["year"] >= start) & (got["year"] <= end)]
        years = end - start + 1
        holds = np.array([cond.holds(v) for v in window["value"].to_numpy(dtype=float)], dtype=bool)
        by_draw = pd.Series(holds, index=window["draw"].to_numpy()).groupby(level=0).agg(["sum", "count"])
        ok = np.flatnonzero(self.ok)
        sums = by_draw["sum"].reindex(ok, fill_value=0).to_numpy()
        satisfied = sums >= years if cond.every else sums >= 1
        n, k = len(ok), int(satisfied.sum())
        lo, hi = wilson_interval(k, n)
        return {
            "condition": cond.text(),
            "probability": k / n if n else math.nan,
            "low": lo,
            "high": hi,
            "draws": n,
            "window": [start, end],
        }

    def claims(self) -> pd.DataFrame:
        """Per published claim (``<key>|<source id>``) and year: P(holds), its interval, modelled P5-P95."""
        held = self._query(
            "SELECT subject, year, sum(value) AS k, count(*) AS n FROM outputs WHERE kpi = 'claim_holds' "
            "GROUP BY subject, year ORDER BY year, subject"
        )
        model = self.percentiles("claim_model")
        if held.empty:
            return pd.DataFrame(
                columns=["claim", "source", "year", "probability", "low", "high", "draws", "p5", "p50", "p95"]
            )
        model = model.set_index(["subject", "year"])
        rows = []
        for r in held.itertuples(index=False):
            lo, hi = wilson_interval(int(r.k), int(r.n))
            key, _, source = str(r.subject).partition("|")
            m = model.loc[(r.subject, r.year)] if (r.subject, r.year) in model.index else None
            rows.append(
                {
                    "claim": key,
                    "source": source,
                    "year": int(r.year),
                    "probability": float(r.k) / float(r.n),
                    "low": lo,
                    "high": hi,
                    "draws": int(r.n),
                    "p5": float(m["p5"]) if m is not None else math.nan,
                    "p50": float(m["p50"]) if m is not None else math.nan,
                    "p95": float(m["p95"]) if m is not None else math.nan,
                }
            )
        return pd.DataFrame(rows)

    def split(self, output: OutputRef | str, choice: str) -> pd.DataFrame:
        """P5, P50, P95 and the share of draws of `output` for each option of the discrete input `choice`."""
        j = self._input_index(choice)
        inp = self.inputs[j]
        y = self.vector(output)
        options = self.sample.values[:, j]
        rows = []
        for x in sorted(set(options.tolist())):
            sel = (options == x) & np.isfinite(y)
            v = y[sel]
            p5, p50, p95 = np.percentile(v, FAN) if v.size else (math.nan,) * 3
            rows.append(
                {
                    "option": inp.label(x),
                    "share": float(sel.sum()) / max(1, int(np.isfinite(y).sum())),
                    "p5": float(p5),
                    "p50": float(p50),
                    "p95": float(p95),
                    "draws": int(sel.sum()),
                }
            )
        return pd.DataFrame(rows)

    # sensitivity --------------------------------------------------------------------------------------
    def _input_index(self, name: str) -> int:
        try:
            return self.sample.names.index(name)
        except ValueError:
            raise InputError(f"{name!r} is not an input of the study") from None

    def _complete(self, output: OutputRef | str, method: str) -> np.ndarray:
        if self.sample.method != method:
            raise InputError(
                f"{method} indices need a study sampled with --method {method}; "
                f"this one used {self.sample.method}"
            )
        y = self.vector(output)
        missing = int((~np.isfinite(y)).sum())
        if missing:
            raise InputError(
                f"{method} indices need every draw of the design; {missing} of {y.size} lack "
                f"{output if isinstance(output, str) else output.text()} (failed draws or a missing output)"
            )
        return y

    def sobol(self, output: OutputRef | str) -> pd.DataFrame:
        """First- and total-order Sobol' indices of `output` with their 95 % confidence half-widths."""
        from SALib.analyze import sobol

        y = self._complete(output, "sobol")
        if float(np.var(y)) == 0.0:
            raise InputError(
                f"{output}: the output does not vary over the draws; its Sobol' indices are undefined"
            )
        si = sobol.analyze(
            self.sample.problem(),
            y,
            calc_second_order=False,
            conf_level=CONFIDENCE,
            print_to_console=False,
            seed=self.sample.seed,
        )
        return pd.DataFrame(
            {
                "input": list(self.sample.names),
                "S1": si["S1"],
                "S1_conf": si["S1_conf"],
                "ST": si["ST"],
                "ST_conf": si["ST_conf"],
            }
        ).sort_values("ST", ascending=False, ignore_index=True)

    def morris(self, output: OutputRef | str) -> pd.DataFrame:
        """Morris elementary effects of `output` on the unit scale of each input: mu*, its CI, mu, sigma."""
        from SALib.analyze import morris

        y = self._complete(output, "morris")
        si = morris.analyze(
            self.sample.problem(),
            self.sample.unit,
            y,
            num_levels=MORRIS_LEVELS,
            conf_level=CONFIDENCE,
            print_to_console=False,
            seed=self.sample.seed,
        )
        return pd.DataFrame(
            {
                "input": list(self.sample.names),
                "mu_star": np.asarray(si["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
                "mu": np.asarray(si["mu"], dtype=float),
                "sigma": np.asarray(si["sigma"], dtype=float),
            }
        ).sort_values("mu_star", ascending=False, ignore_index=True)

    def tornado(self, output: OutputRef | str, top: int | None = 15, share: float = 0.2) -> pd.DataFrame:
        """Per input: Spearman's rank correlation with `output`, and the output's median among the draws with
        the input in its lowest and highest `share` (quintiles by default), ranked by the swing."""
        y = self.vector(output)
        keep = np.isfinite(y)
        if int(keep.sum()) < MIN_TORNADO_DRAWS:
            raise InputError(
                f"a tornado needs at least {MIN_TORNADO_DRAWS} finished draws, got {int(keep.sum())}"
            )
        rows = []
        for j, name in enumerate(self.sample.names):
            u = self.sample.unit[keep, j]
            v = y[keep]
            if v.size < 4 or np.ptp(u) == 0.0:
                continue
            rho = float(stats.spearmanr(u, v).statistic) if np.ptp(v) > 0 else 0.0
            lo_cut, hi_cut = np.quantile(u, [share, 1.0 - share])
            low = v[u <= lo_cut]
            high = v[u >= hi_cut]
            if not low.size or not high.size:
                continue
            rows.append(
                {
                    "input": name,
                    "rho": rho,
                    "low": float(np.median(low)),
                    "high": float(np.median(high)),
                    "swing": float(abs(np.median(high) - np.median(low))),
                }
            )
        frame = pd.DataFrame(rows, columns=["input", "rho", "low", "high", "swing"])
        frame = frame.sort_values("swing", ascending=False, ignore_index=True)
        return frame.head(top) if top is not None else frame

    # convergence --------------------------------------------------------------------------------------
    def convergence(
        self, output: OutputRef | str, precision: float = 0.01, boots: int = 200
    ) -> dict[str, Any]:
        """How settled the mean, P5, P50 and P95 of `output` are, and the draws a stated precision needs.

        For growing prefixes of the draws (doubling), each statistic with its bootstrap standard error; the
        draws needed for a 95 % half-width of `precision` x the spread (P95 - P5) follow from the standard
        error at the full size scaling as 1/sqrt(n). For Monte Carlo and Latin hypercube samples (a Latin
        hypercube's error is at most that of Monte Carlo, so the figure is on the safe side).
        """
        y = self.vector(output)
        y = y[np.isfinite(y)]
        if y.size < 8:
            raise InputError(f"convergence of {output}: at least 8 finished draws needed, got {y.size}")
        rng = np.random.default_rng(self.sample.seed)
        sizes = []
        n = 8
        while n < y.size:
            sizes.append(n)
            n *= 2
        sizes.append(int(y.size))
        stats_rows = []
        for n in sizes:
            part = y[:n]
            idx = rng.integers(0, n, size=(boots, n))
            boot = part[idx]
            est = [float(part.mean()), *np.percentile(part, FAN).tolist()]
            ses = [
                float(boot.mean(axis=1).std(ddof=1)),
                *np.percentile(boot, FAN, axis=1).std(axis=1, ddof=1),
            ]
            stats_rows.append(
                {
                    "draws": n,
                    **dict(zip(["mean", "p5", "p50", "p95"], est, strict=True)),
                    **dict(zip(["se_mean", "se_p5", "se_p50", "se_p95"], ses, strict=True)),
                }
            )
        last = stats_rows[-1]
        spread = last["p95"] - last["p5"]
        z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
        target = precision * spread if spread > 0 else math.nan
        needed = {}
        for s in ("mean", "p5", "p50", "p95"):
            se = last[f"se_{s}"]
            settled = not (math.isfinite(target) and se > 0)  # a constant output: any draw will do
            needed[s] = int(y.size) if settled else math.ceil(y.size * (z * se / target) ** 2)
        return {
            "output": output if isinstance(output, str) else output.text(),
            "precision": precision,
            "half_width_target": target,
            "steps": stats_rows,
            "draws_needed": needed,
        }

    # record -------------------------------------------------------------------------------------------
    def to_dict(self, kpis: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON-ready summary: the study, draws, P5-P50-P95 of the totals by year, and the claims."""
        return {
            "study": {k: v for k, v in self.meta.items() if k != "inputs"},
            "inputs": [i.to_dict() for i in self.inputs],
            "draws": self.draws,
            "backend": self.backend,
            "ranges": {
                k: {str(y): list(v) for y, v in by_year.items()} for k, by_year in self.ranges(kpis).items()
            },
            "claims": self.claims().to_dict(orient="records"),
        }
