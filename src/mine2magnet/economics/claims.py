"""Published claims beside the model: each claim's number against the modelled figure and its range.

A claim (``mine2magnet.data.Claim``) names a measure in ``model``; the check reads it from a run that has
its accounts (``domestic_value_added_usd`` and the other totals of :mod:`mine2magnet.economics.totals`):

=======================  ======================================================================
value_added              value added in the country (income approach), USD in the claim's year
national_value_added     the same less foreign owners' income
output                   sales of the country's modelled rare-earth facilities
jobs                     ``effects: direct`` (default) or ``total`` (with input-output multipliers)
smuggling_loss           royalties and taxes lost to illegal exports
royalties                royalties paid by the country's mines
resource_value           the country's resource (``resource.<country>.total_treo``) valued at the
                         year's oxide prices in the composition of its first modelled mine
=======================  ======================================================================

The modelled range is the figure +- ``relative_uncertainty`` (declared with the data until the uncertainty
analysis gives a distribution). The verdict places the claimed number against that range (``within range``,
``above``, ``below``); ``holds`` says whether the claim, read as meant (about, up to, at least), agrees.
Money is converted between USD and MYR at the year's rate of the run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mine2magnet.chain import ChainModel, ChainResult
from mine2magnet.data import Claim, Dataset, convert, parse_unit
from mine2magnet.errors import InputError

#: Verdicts of a claim.
VERDICTS = ("within range", "above", "below", "not modelled")
_USD = parse_unit("USD").dimensionality
_MYR = parse_unit("MYR").dimensionality


@dataclass(frozen=True)
class ClaimCheck:
    """A claim beside its modelled figure (in the claim's unit) and the verdict."""

    claim: Claim
    model: float | None
    low: float | None
    high: float | None
    verdict: str
    holds: bool | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row: the claim's words and number, the modelled figure and range, the verdict."""
        c = self.claim
        return {
            "key": c.key,
            "claim": c.claim,
            "claimant": c.claimant,
            "year": c.period.end.year,
            "value": c.value,
            "unit": c.unit,
            "reading": c.reading,
            "model": self.model,
            "model_low": self.low,
            "model_high": self.high,
            "verdict": self.verdict,
            "holds": self.holds,
            "reason": self.reason,
            "source": {
                "id": c.source.id,
                "title": c.source.title,
                "url": c.source.url,
                "date": c.source.date,
            },
        }


def _sum(values: list[float]) -> float:
    """The sum pandas gives for the rows' values (NaN counted as 0, numpy's pairwise order)."""
    arr = np.array(values, dtype=float)
    arr[np.isnan(arr)] = 0.0
    return float(arr.sum())


class RunTotals:
    """A run's KPI and account sums by year and facility (KPIs) or item, country and year (accounts).

    Each KPI's rows (and the accounts' rows of each item) are read once and grouped in a dictionary, so a
    claim check asking many times reads no table again. Sums equal ``rows["value"].sum()`` (``usd`` for
    the accounts) of the rows a pandas filter selects, in the same order.
    """

    def __init__(self, result: ChainResult) -> None:
        self.result = result
        self._kpis: dict[str, tuple[dict[tuple[int, str], list[float]], dict[int, list[float]]]] = {}
        self._accounts: dict[str, dict[tuple[str, int], list[float]]] = {}
        self._columns: tuple[np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray] | None = None

    def _kpi_columns(self) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray]:
        """The KPI table's columns, read once: KPI codes and names, years, facilities, values."""
        if self._columns is None:
            k = self.result.tables["kpis"]
            codes, names = pd.factorize(k["kpi"])
            self._columns = (
                codes,
                [str(n) for n in names],
                k["year"].to_numpy(),
                k["facility"].to_numpy(dtype=object),
                k["value"].to_numpy(dtype=float),
            )
        return self._columns

    def kpi_total(self, kpi: str, year: int, facility: str = "total") -> float | None:
        """Sum of `kpi` over the rows of `year` and `facility` (``""``: every facility), in the KPI's unit;
        None when there are no such rows."""
        found = self._kpis.get(kpi)
        if found is None:
            codes, names, year_col, facility_col, value_col = self._kpi_columns()
            rows = np.flatnonzero(codes == names.index(kpi)) if kpi in names else np.zeros(0, dtype=int)
            by_facility: dict[tuple[int, str], list[float]] = {}
            by_year: dict[int, list[float]] = {}
            for y, f, v in zip(
                year_col[rows].tolist(), facility_col[rows].tolist(), value_col[rows].tolist(), strict=True
            ):
                by_facility.setdefault((y, f), []).append(v)
                by_year.setdefault(y, []).append(v)
            found = self._kpis[kpi] = (by_facility, by_year)
        rows_of = found[0].get((year, facility)) if facility else found[1].get(year)
        return _sum(rows_of) if rows_of else None

    def accounts_sum(self, item: str, country: str, year: int) -> float | None:
        """Sum (USD) of the accounts' `item` of `country` in `year` (0 without rows); None without
        accounts."""
        acc = self.result.tables.get("accounts")
        if acc is None:
            return None
        found = self._accounts.get(item)
        if found is None:
            codes, names = pd.factorize(acc["item"])  # the table's item names read once
            names = [str(n) for n in names]
            rows = np.flatnonzero(codes == names.index(item)) if item in names else np.zeros(0, dtype=int)
            found = {}
            countries = acc["country"].to_numpy(dtype=object)[rows].tolist()
            years = acc["year"].to_numpy()[rows].tolist()
            usd = acc["usd"].to_numpy(dtype=float)[rows].tolist()
            for c, y, v in zip(countries, years, usd, strict=True):
                found.setdefault((c, y), []).append(v)
            self._accounts[item] = found
        return _sum(found.get((country, year), []))


def _resource_value(model: ChainModel, dataset: Dataset, country: str, year: int) -> float | None:
    key = f"resource.{country.lower()}.total_treo"
    if key not in dataset:
        return None
    mines = [f for f in model.network.of_kind("mines") if f.country == country and f.attrs.get("composition")]
    if not mines:
        return None
    comp = mines[0].attrs["composition"]
    total = sum(comp.values())
    per_t = sum(share / total * model.prices.oxide_price(el, year) for el, share in comp.items())
    return dataset.value(key, "t") * per_t


def modelled_usd(
    claim: Claim, model: ChainModel, result: ChainResult | RunTotals, dataset: Dataset
) -> tuple[float | None, str]:
    """The modelled figure of a claim in USD (or persons), and why it is missing when it is.

    `result`: the run, or its :class:`RunTotals` (a check of many claims reads each table once)."""
    totals = result if isinstance(result, RunTotals) else RunTotals(result)
    result = totals.result
    spec = dict(claim.model)
    measure = str(spec.get("measure", ""))
    country = str(spec.get("country", claim.subject))
    year = claim.period.end.year
    if not measure:
        return None, claim.note or "the model has no counterpart of this quantity"
    if year not in result.years:
        return None, f"the run covers {result.years[0]}-{result.years[-1]}, not {year}"
    if measure != "resource_value" and country != result.focus_country:
        return None, f"the run's accounts are for {result.focus_country or 'no country'}, not {country}"
    kpis = {
        "value_added": "domestic_value_added_usd",
        "national_value_added": "national_value_added_usd",
        "smuggling_loss": "smuggling_loss_usd",
    }
    if measure in kpis:
        value = totals.kpi_total(kpis[measure], year, "" if measure == "smuggling_loss" else "total")
    elif measure == "jobs":
        value = totals.kpi_total("jobs_total" if spec.get("effects") == "total" else "jobs_direct", year)
    elif measure in ("output", "royalties"):
        value = totals.accounts_sum(measure, country, year)
    elif measure == "resource_value":
        value = _resource_value(model, dataset, country, year)
    else:
        raise InputError(
            f"unknown claim measure {measure!r}", file=claim.file, field=f"claims[{claim.index}]"
        )
    if value is None:
        return None, "the run has no accounts (its scenario has no economics block)"
    return value, ""


#: What each claim unit measures ("USD", "MYR" or "other"), parsed once per unit text.
_UNIT_KIND: dict[str, str] = {}


def _in_claim_unit(value_usd: float, claim: Claim, rate: float) -> float:
    kind = _UNIT_KIND.get(claim.unit)
    if kind is None:
        dim = parse_unit(claim.unit).dimensionality
        kind = _UNIT_KIND[claim.unit] = "USD" if dim == _USD else "MYR" if dim == _MYR else "other"
    if kind == "USD":
        return convert(value_usd, "USD", claim.unit)
    if kind == "MYR":
        return convert(value_usd * rate, "MYR", claim.unit)
    return convert(value_usd, "dimensionless", claim.unit)


def check_claim(
    claim: Claim,
    model: ChainModel,
    result: ChainResult | RunTotals,
    dataset: Dataset,
    relative_uncertainty: float,
) -> ClaimCheck:
    """One claim beside the run (see the module docstring); `result` may be the run's :class:`RunTotals`."""
    totals = result if isinstance(result, RunTotals) else RunTotals(result)
    value, why = modelled_usd(claim, model, totals, dataset)
    if value is None:
        return ClaimCheck(claim, None, None, None, "not modelled", None, why)
    year = claim.period.end.year
    rates = totals.kpi_total("myr_per_usd", year)
    rate = rates if rates is not None and math.isfinite(rates) else math.nan
    modelled = _in_claim_unit(value, claim, rate)
    low, high = sorted((modelled * (1 - relative_uncertainty), modelled * (1 + relative_uncertainty)))
    v = claim.value
    verdict = "above" if v > high else "below" if v < low else "within range"
    holds = {"about": verdict == "within range", "up_to": low <= v, "at_least": high >= v}[claim.reading]
    reason = (
        f"model {modelled:,.3g} {claim.unit} (range {low:,.3g}-{high:,.3g}) in {year}; the claim says "
        f"{claim.reading.replace('_', ' ')} {v:,.3g}"
    )
    return ClaimCheck(claim, modelled, low, high, verdict, holds, reason)


def check_claims(
    claims: Iterable[Claim],
    model: ChainModel,
    result: ChainResult,
    dataset: Dataset,
    relative_uncertainty: float,
) -> list[ClaimCheck]:
    """Every claim checked against the run (each KPI and accounts item read from its table once)."""
    totals = RunTotals(result)
    return [check_claim(c, model, totals, dataset, relative_uncertainty) for c in claims]
