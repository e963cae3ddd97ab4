"""The backtest: every published historical quantity the model can produce, set beside its modelled value.

An :class:`~mine2magnet.data.Observation` names its modelled counterpart in ``model`` (a *measure* and its
arguments, below). The model works in calendar years; a published period is converted by months (FY2025 =
half of 2024 + half of 2025; a quarter = a quarter of its year), a stock at a date is read from the closing
stock of the year it falls in (or of the year before when it falls before mid-December). The comparison
passes when ``|model - published| <= tolerance x |published|``, the tolerance being declared with the
observation from the uncertainty of the inputs, never fitted.

Measures (``model: {measure: ..., ...}``; model units: t of each element as its oxide, USD/kg of oxide):

=================  ======================================================================================
facility_output    ``facility``, optional ``elements``, ``commodities``: t produced (KPI production_t)
facility_input     ``facility``, optional ``commodity``, ``elements``: t arriving along trade links
flow               ``source``, ``target``, optional ``commodity``, ``elements``: t moved along a link
mine_output        ``country``, ``informal`` (include | exclude): t mined (plus the smuggling routes)
stock              ``facility``, ``stock`` (e.g. residue:WLP): t held on the period's last day
price              ``element``: USD/kg of its separated oxide in the price deck (mean over the period)
magnet_price       USD/kg of NdFeB magnet in the price deck
demand             ``market``, optional ``elements``: t demanded (sold + unmet)
revenue            ``facility``: value of its output in the run's accounts (USD), in the observation's
                   currency (``million AUD``...) at each year's rate (``fx.<CUR>_per_USD.<year>``)
operating_costs    ``facilities``: their cash operating costs in the run's accounts (reagents, energy,
                   materials, other inputs, wages, royalties; not depreciation nor the capital charge),
                   in the observation's currency as for revenue. Feed the listed facilities buy from
                   each other is a transfer inside the group and left out (``re_inputs``), so list every
                   facility of a company that trades with the others
=================  ======================================================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mine2magnet.chain import ChainResult
from mine2magnet.chain.prices import PriceDeck
from mine2magnet.data import Dataset, Observation, Period, convert, parse_unit
from mine2magnet.errors import InputError

#: Outcomes of one observation: compared (pass / fail / known miss) or not (with the reason).
STATUSES = ("pass", "fail", "known miss", "not modelled", "outside run")

_MASS = parse_unit("t").dimensionality
_MASS_RATE = parse_unit("t/yr").dimensionality


@dataclass(frozen=True)
class Comparison:
    """One observation beside its modelled value (in the observation's unit; None if not compared)."""

    observation: Observation
    model: float | None
    status: str
    reason: str = ""
    fitted_by: tuple[str, ...] = ()

    @property
    def in_sample(self) -> bool:
        """True when an input of the run was fitted to this observation (its passing shows the fit)."""
        return bool(self.fitted_by)

    @property
    def published(self) -> float:
        """The published value, in the observation's unit."""
        return self.observation.value

    @property
    def ratio(self) -> float | None:
        """model / published (None when not compared or the published value is 0)."""
        if self.model is None or self.published == 0:
            return None
        return self.model / self.published

    @property
    def compared(self) -> bool:
        """True when the model produced a counterpart."""
        return self.status in ("pass", "fail", "known miss")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row: key, year, model, published, ratio, tolerance, pass, and the context."""
        o = self.observation
        return {
            "key": o.key,
            "year": o.period.end.year,
            "period": o.period.label,
            "quantity": o.quantity,
            "subject": o.subject,
            "unit": o.unit,
            "basis": o.basis,
            "model": self.model,
            "published": self.published,
            "ratio": self.ratio,
            "tolerance": o.tolerance,
            "pass": (self.status == "pass") if self.compared else None,
            "status": self.status,
            "reason": self.reason,
            "tolerance_basis": o.tolerance_basis,
            "in_sample": self.in_sample,
            "fitted_by": list(self.fitted_by),
            "source": {
                "id": o.source.id,
                "title": o.source.title,
                "url": o.source.url,
                "date": o.source.date,
            },
        }


@dataclass(frozen=True)
class Backtest:
    """The comparisons of one run: those the model produced and those it could not, with the reason."""

    scenario: str
    years: tuple[int, int]
    comparisons: tuple[Comparison, ...]

    @property
    def compared(self) -> list[Comparison]:
        """The comparisons with a modelled value."""
        return [c for c in self.comparisons if c.compared]

    @property
    def failures(self) -> list[Comparison]:
        """Compared observations outside their tolerance and not declared a known miss."""
        return [c for c in self.comparisons if c.status == "fail"]

    def counts(self) -> dict[str, int]:
        """How many observations ended in each status."""
        return {s: sum(1 for c in self.comparisons if c.status == s) for s in STATUSES}

    @property
    def out_of_sample(self) -> list[Comparison]:
        """The compared observations no input of the run was fitted to: the independent tests."""
        return [c for c in self.compared if not c.in_sample]

    def to_dict(self) -> dict[str, Any]:
        """``{"scenario", "years", "counts", "observations": [...], "not_compared": [...]}`` (JSON-ready)."""
        return {
            "scenario": self.scenario,
            "years": list(self.years),
            "counts": self.counts(),
            "out_of_sample_counts": {
                s: sum(1 for c in self.out_of_sample if c.status == s) for s in STATUSES[:3]
            },
            "observations": [c.to_dict() for c in self.compared],
            "not_compared": [
                {
                    "key": c.observation.key,
                    "period": c.observation.period.label,
                    "status": c.status,
                    "reason": c.reason,
                }
                for c in self.comparisons
                if not c.compared
            ],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per observation (compared or not): the columns of :meth:`Comparison.to_dict` flattened."""
        rows = []
        for c in self.comparisons:
            row = c.to_dict()
            source = row.pop("source")
            row.update({f"source_{k}": v for k, v in source.items()})
            rows.append(row)
        return pd.DataFrame(rows)


# measures ------------------------------------------------------------------------------------------------
class _UnavailableError(Exception):
    """The run cannot produce this observation (outside its years, or a name it does not have)."""


def _listed(spec: Mapping[str, Any], name: str) -> list[str] | None:
    raw = spec.get(name)
    if raw is None:
        return None
    return [str(x) for x in raw] if isinstance(raw, list | tuple) else [str(raw)]


def _select(frame: pd.DataFrame, column: str, allowed: list[str] | None) -> pd.DataFrame:
    return frame if allowed is None else frame[frame[column].isin(allowed)]


def _weighted(per_year: pd.Series, weights: Mapping[int, float], years: Sequence[int], what: str) -> float:
    missing = [y for y in weights if y not in years]
    if missing:
        raise _UnavailableError(f"{what}: the run does not cover {missing[0]}")
    return float(sum(w * float(per_year.get(y, 0.0)) for y, w in weights.items()))


def _facility_known(result: ChainResult, name: str, field: str) -> None:
    known = set(result.tables["facilities"]["facility"]) | set(result.tables["flows"]["source"])
    if name not in known:
        raise _UnavailableError(f"{field} {name!r} is not in the scenario")


def _facility_output(spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], _: Any) -> float:
    facility = str(spec["facility"])
    _facility_known(result, facility, "facility")
    k = result.kpi("production_t")
    k = k[k["facility"] == facility]
    k = _select(_select(k, "element", _listed(spec, "elements")), "detail", _listed(spec, "commodities"))
    return _weighted(k.groupby("year")["value"].sum(), w, result.years, "facility_output")


def _link_flows(result: ChainResult, spec: Mapping[str, Any]) -> pd.DataFrame:
    f = result.tables["flows"]
    f = f[f["commodity"] != "residue"]
    for column in ("source", "target"):
        if spec.get(column) is not None:
            _facility_known(result, str(spec[column]), column)
            f = f[f[column] == str(spec[column])]
    return _select(_select(f, "commodity", _listed(spec, "commodity")), "element", _listed(spec, "elements"))


def _flow(spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], _: Any) -> float:
    return _weighted(_link_flows(result, spec).groupby("year")["t"].sum(), w, result.years, "flow")


def _facility_input(spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], _: Any) -> float:
    return _flow({**spec, "target": spec["facility"]}, result, w, _)


def _mine_output(spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], _: Any) -> float:
    fac = result.tables["facilities"]
    kinds = ["mine", "informal_mine"] if str(spec.get("informal", "exclude")) == "include" else ["mine"]
    in_country = fac[fac["type"].isin(kinds) & (fac["country"] == str(spec["country"]))]["facility"].tolist()
    k = result.kpi("production_t")
    return _weighted(
        k[k["facility"].isin(in_country)].groupby("year")["value"].sum(), w, result.years, "mine_output"
    )


def _stock(spec: Mapping[str, Any], result: ChainResult, period: Period, _: Any) -> float:
    """Stock held on the period's last day.

    A residue stock on a day inside a modelled year is the year's closing stock less the part of the year's
    production still to come (residue accrues evenly over the year); any other stock is read from the
    closing stock of :attr:`Period.stock_year`.
    """
    facility, stock = str(spec["facility"]), str(spec["stock"])
    _facility_known(result, facility, "facility")
    s = result.tables["stocks"]
    s = s[(s["facility"] == facility) & (s["stock"] == stock)]
    day = period.end
    if stock.startswith("residue:") and day.year in result.years:
        produced = result.kpi("residue_produced_t")
        produced = produced[
            (produced["facility"] == facility)
            & (produced["detail"] == stock.removeprefix("residue:"))
            & (produced["year"] == day.year)
        ]
        year_days = (dt.date(day.year, 12, 31) - dt.date(day.year, 1, 1)).days + 1
        to_come = 1.0 - ((day - dt.date(day.year, 1, 1)).days + 1) / year_days
        closing = float(s[s["year"] == day.year]["t"].sum())
        return closing - to_come * float(produced["value"].sum())
    year = period.stock_year
    if year not in result.years:
        raise _UnavailableError(f"stock: the run's closing stocks do not include {year}")
    return float(s[s["year"] == year]["t"].sum())


def _price(spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], deck: PriceDeck) -> float:
    element = str(spec["element"])
    per_year = pd.Series({y: deck.oxide_price(element, y) / 1000.0 for y in result.years})
    return _weighted(per_year, w, result.years, "price") / sum(w.values())


def _magnet_price(
    spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], deck: PriceDeck
) -> float:
    per_year = pd.Series({y: deck.magnet_usd_per_t.at(y) / 1000.0 for y in result.years})
    return _weighted(per_year, w, result.years, "magnet_price") / sum(w.values())


def _demand(spec: Mapping[str, Any], result: ChainResult, w: Mapping[int, float], _: Any) -> float:
    market = str(spec["market"])
    _facility_known(result, market, "market")
    sold = (
        _link_flows(result, {"target": market, "elements": spec.get("elements")}).groupby("year")["t"].sum()
    )
    k = result.kpi("unmet_demand_t")
    k = _select(k[k["facility"] == market], "element", _listed(spec, "elements"))
    return _weighted(sold.add(k.groupby("year")["value"].sum(), fill_value=0.0), w, result.years, "demand")


_FlowMeasure = Callable[[Mapping[str, Any], ChainResult, Mapping[int, float], PriceDeck], float]
#: Measures over a period (flows and averages), by name.
FLOW_MEASURES: dict[str, _FlowMeasure] = {
    "facility_output": _facility_output,
    "facility_input": _facility_input,
    "flow": _flow,
    "mine_output": _mine_output,
    "price": _price,
    "magnet_price": _magnet_price,
    "demand": _demand,
}
#: The unit each measure returns.
MEASURE_UNITS: dict[str, str] = {
    **{name: "t" for name in FLOW_MEASURES},
    "stock": "t",
    "price": "USD/kg",
    "magnet_price": "USD/kg",
    "revenue": "USD",
    "operating_costs": "USD",
}
#: The arguments each measure requires.
REQUIRED: dict[str, tuple[str, ...]] = {
    "facility_output": ("facility",),
    "facility_input": ("facility",),
    "flow": (),
    "mine_output": ("country",),
    "stock": ("facility", "stock"),
    "price": ("element",),
    "magnet_price": (),
    "demand": ("market",),
    "revenue": ("facility",),
    "operating_costs": ("facilities",),
}


def check_measure(obs: Observation) -> None:
    """Refuse an observation whose ``model`` names an unknown measure or lacks an argument (InputError)."""
    where = obs.where
    measure = obs.model.get("measure")
    if measure not in REQUIRED:
        raise InputError(
            f"model.measure {measure!r} must be one of {', '.join(REQUIRED)}", file=obs.file, field=where
        )
    missing = [a for a in REQUIRED[str(measure)] if obs.model.get(a) in (None, "")]
    if missing:
        raise InputError(f"model.{missing[0]}: measure {measure!r} needs it", file=obs.file, field=where)


#: Scale words a money unit may start with ("million AUD").
_SCALES = {"": 1.0, "thousand": 1e3, "million": 1e6, "billion": 1e9}


def money_unit(unit: str) -> tuple[float, str]:
    """(scale, currency) of a money unit such as ``million AUD`` or ``USD``; InputError otherwise."""
    words = unit.split()
    scale, currency = (words[0], words[1]) if len(words) == 2 else ("", words[0] if words else "")
    if scale not in _SCALES or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InputError(f"expected a money unit such as 'million AUD' or 'USD', got {unit!r}", field="unit")
    return _SCALES[scale], currency


#: Account items that are cash operating costs (``operating_costs``): what a company's EBITDA subtracts
#: from its revenue, less corporate overheads the accounts do not hold.
OPERATING_COST_ITEMS = ("reagents", "energy", "materials", "other_inputs", "wages", "royalties")


def _money(
    obs: Observation,
    result: ChainResult,
    rates: Mapping[str, Mapping[int, float]],
    facilities: list[str],
    items: Sequence[str],
) -> float:
    """The sum of account `items` of `facilities` over the period, in the observation's currency and scale."""
    measure = str(obs.model["measure"])
    for facility in facilities:
        _facility_known(result, facility, "facility")
    accounts = result.tables.get("accounts")
    if accounts is None or accounts.empty:
        raise _UnavailableError(f"{measure}: the run has no accounts")
    scale, currency = money_unit(obs.unit)
    a = accounts[accounts["facility"].isin(facilities) & accounts["item"].isin(items)]
    usd = a.groupby("year")["usd"].sum()
    weights = obs.period.year_weights()
    per_year = {}
    for year in weights:
        rate = 1.0 if currency == "USD" else rates.get(currency, {}).get(year)
        if rate is None:
            raise _UnavailableError(f"{measure}: no {currency} per USD rate for {year}")
        per_year[year] = float(usd.get(year, 0.0)) * rate / scale
    return _weighted(pd.Series(per_year), weights, result.years, measure)


def _revenue(obs: Observation, result: ChainResult, rates: Mapping[str, Mapping[int, float]]) -> float:
    """The facility's output value over the period, in the observation's currency and scale."""
    return _money(obs, result, rates, [str(obs.model["facility"])], ("output",))


def _operating_costs(
    obs: Observation, result: ChainResult, rates: Mapping[str, Mapping[int, float]]
) -> float:
    """The facilities' cash operating costs over the period, in the observation's currency and scale."""
    facilities = _listed(obs.model, "facilities") or []
    return _money(obs, result, rates, facilities, OPERATING_COST_ITEMS)


def _in_model_unit(obs: Observation, measure: str) -> float:
    """The published value in the measure's unit (a t/yr figure over its period becomes t)."""
    target = MEASURE_UNITS[measure]
    dim = parse_unit(obs.unit).dimensionality
    if target == "t" and dim == _MASS_RATE:
        years = len(obs.period.months) / 12.0
        return convert(obs.value, obs.unit, "t/yr") * years
    return convert(obs.value, obs.unit, target)


def modelled_value(
    obs: Observation,
    result: ChainResult,
    deck: PriceDeck,
    rates: Mapping[str, Mapping[int, float]] | None = None,
) -> float:
    """The model's counterpart of `obs` in the observation's unit; _UnavailableError if it has none.

    ``rates``: {currency: {year: units per USD}} for money measures.
    """
    check_measure(obs)
    measure = str(obs.model["measure"])
    if measure == "revenue":
        return _revenue(obs, result, rates or {})
    if measure == "operating_costs":
        return _operating_costs(obs, result, rates or {})
    if measure == "stock":
        model = _stock(obs.model, result, obs.period, deck)
    else:
        model = FLOW_MEASURES[measure](obs.model, result, obs.period.year_weights(), deck)
    published_in_model_unit = _in_model_unit(obs, measure)
    if published_in_model_unit == 0:
        return model
    return model * obs.value / published_in_model_unit


def compare(
    obs: Observation,
    result: ChainResult,
    deck: PriceDeck,
    rates: Mapping[str, Mapping[int, float]] | None = None,
) -> Comparison:
    """One observation against the run (``rates``: {currency: {year: units per USD}})."""
    if not obs.model:
        return Comparison(obs, None, "not modelled", obs.note or "no modelled counterpart declared")
    try:
        model = modelled_value(obs, result, deck, rates)
    except _UnavailableError as exc:
        return Comparison(obs, None, "outside run", str(exc))
    tol = obs.tolerance if obs.tolerance is not None else 0.0
    inside = math.isfinite(model) and abs(model - obs.value) <= tol * abs(obs.value) + 1e-9
    if inside:
        return Comparison(obs, model, "pass")
    if obs.known_miss:
        return Comparison(obs, model, "known miss", obs.known_miss)
    ratio = model / obs.value if obs.value else math.inf
    return Comparison(obs, model, "fail", f"model/published = {ratio:.2f}, tolerance ±{tol:.0%}")


def fitted_inputs(dataset: Dataset, used_keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """{observation key: the used data keys fitted to it}, following ``derived_from`` through derived values.

    A dataset value derived from an observation (a calibrated input such as the La/Ce separation cost) makes
    that observation in-sample for every run that uses the value, directly or through other derived values.
    """
    observed = {o.key for o in dataset.observations()}
    compositions = set(dataset.compositions())
    out: dict[str, set[str]] = {}
    for used in sorted(set(used_keys)):
        seen: set[str] = set()
        todo = [used]
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            if key in observed:
                out.setdefault(key, set()).add(used)
            elif key in dataset:
                entry = dataset.composition(key) if key in compositions else dataset.get(key)
                todo.extend(entry.derived_from)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def used_data_keys(result: ChainResult) -> list[str]:
    """The dataset keys a run's scenario referred to (its assumptions table's ``data_key`` column)."""
    table = result.tables.get("assumptions")
    if table is None or "data_key" not in table:
        return []
    return sorted({str(k) for k in table["data_key"].dropna() if str(k)})


def backtest(
    result: ChainResult,
    deck: PriceDeck,
    observations: Iterable[Observation],
    fitted: Mapping[str, Sequence[str]] | None = None,
    rates: Mapping[str, Mapping[int, float]] | None = None,
) -> Backtest:
    """Every observation compared with the run (see the module docstring for periods and measures).

    ``fitted``: {observation key: data keys of the run fitted to it} (:func:`fitted_inputs`); those
    observations are marked in-sample. ``rates``: {currency: {year: units per USD}} (:func:`exchange_rates`)
    for revenues published in another currency.
    """
    fitted = fitted or {}
    comparisons = tuple(
        dataclasses.replace(c, fitted_by=tuple(fitted.get(c.observation.key, ()))) if c.compared else c
        for c in (compare(o, result, deck, rates) for o in observations)
    )
    return Backtest(result.scenario_name, (result.years[0], result.years[-1]), comparisons)


def exchange_rates(dataset: Dataset) -> dict[str, dict[int, float]]:
    """{currency: {year: units per USD}} from the dataset's annual ``fx.<CUR>_per_USD.<year>`` series."""
    out: dict[str, dict[int, float]] = {}
    for key in dataset.keys("fx."):
        parts = key.split(".")
        if len(parts) == 2 and parts[1].endswith("_per_USD"):
            series = dataset.series(key)
            if series:
                out[parts[1].removesuffix("_per_USD")] = {y: float(v.magnitude()) for y, v in series.items()}
    return out
