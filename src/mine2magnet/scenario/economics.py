"""The ``economics:`` block of a scenario: the sourced inputs of the accounts (``mine2magnet.economics``).

```yaml
economics:
  myr_per_usd: {2024: {ref: fx.MYR_per_USD.2024}, 2025: {ref: fx.MYR_per_USD.2025}}
  corporate_tax_rate: {ref: economics.tax.malaysia.corporate_income_rate}
  wage: {mining: {ref: economics.wage.malaysia.mining.2023}, separation: {...}, ...}   # USD/yr or MYR/yr
  jobs_per_kt: {mining: {ref: economics.jobs_per_kt.mining_isl}, mining_open_pit: {...}, ...}
  capex_per_t: {mining: {ref: economics.capex_per_tpa.mining_isl}, ...}               # USD per t/yr
  asset_life: {mining: {ref: economics.capital.asset_life.mining_isl}, ...}
  discount_rate: {ref: economics.capital.discount_rate}
  magnet_materials: {ref: economics.magnet.non_re_materials_cost}                     # USD per kg magnet
  mine_gate: payability            # or customs (then customs_value, USD per t or kg REO, by year)
  multipliers: {kind: type1, mining: {value_added: {ref: ...}, employment: {ref: ...}}, ...}
```

Stage keys are the chain's stages (mining, cracking, separation, metal, magnet, recycling); a key
``<stage>_<method>`` (e.g. ``mining_open_pit``) applies to mines of that method. Money given in MYR is
converted to USD at ``myr_per_usd`` of the year its data entry refers to (else the scenario's first year).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mine2magnet.chain import YearSeries
from mine2magnet.data.units import compatible, convert
from mine2magnet.economics import EconomicInputs
from mine2magnet.errors import InputError
from mine2magnet.scenario.provenance import Provenance, scalar_of, series_of

_FIELDS = {
    "myr_per_usd",
    "corporate_tax_rate",
    "wage",
    "jobs_per_kt",
    "capex_per_t",
    "asset_life",
    "discount_rate",
    "magnet_materials",
    "mine_gate",
    "customs_value",
    "multipliers",
}


def _year_of(node: Any, prov: Provenance, default: int) -> int:
    if isinstance(node, Mapping) and "ref" in node:
        entry = prov.dataset.get(str(node["ref"]))
        if entry.year is not None:
            return int(entry.year)
    return default


def _usd(node: Any, unit: str, prov: Provenance, where: str, fx: YearSeries, first: int) -> float:
    """A money amount (per `unit`'s denominator) in USD; MYR converted at the rate of its year."""
    q = prov.resolve(node, where)
    value, given = float(getattr(q, "value", q)), str(getattr(q, "unit", unit))
    # a wage may be written per person (USD) or per person and year (USD/yr): the same amount
    for usd in (unit, unit.removesuffix("/yr")) if unit.endswith("/yr") else (unit,):
        myr = usd.replace("USD", "MYR")
        if compatible(given, usd):
            return convert(value, given, usd)
        if compatible(given, myr):
            return convert(value, given, myr) / fx.at(_year_of(node, prov, first))
    raise InputError(f"expected an amount in {unit} or MYR, got {given!r}", file=prov.file, field=where)


def _by_stage(raw: Any, value_of: Any, where: str, prov: Provenance) -> dict[str, float]:
    if not isinstance(raw, Mapping) or not raw:
        raise InputError("expected a mapping of stage -> value", file=prov.file, field=where)
    return {str(stage): value_of(node, f"{where}.{stage}") for stage, node in raw.items()}


#: The accounts' inputs and the input-output multipliers by stage (empty when ``kind: none``).
Economics = tuple[EconomicInputs, dict[str, dict[str, float]]]


def build_economics(raw: Any, prov: Provenance, first_year: int) -> Economics:
    """The accounts' inputs and the input-output multipliers by stage (empty when ``kind: none``)."""
    if not isinstance(raw, Mapping):
        raise InputError("expected a mapping", file=prov.file, field="economics")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r}", file=prov.file, field=f"economics.{unknown[0]}")
    for name in ("myr_per_usd", "corporate_tax_rate", "wage", "jobs_per_kt", "capex_per_t", "asset_life"):
        if name not in raw:
            raise InputError("missing (see docs/economics.md)", file=prov.file, field=f"economics.{name}")
    fx = series_of(raw["myr_per_usd"], "MYR/USD", prov, "economics.myr_per_usd")
    wage = _by_stage(
        raw["wage"], lambda n, w: _usd(n, "USD/yr", prov, w, fx, first_year), "economics.wage", prov
    )
    capex = _by_stage(
        raw["capex_per_t"],
        lambda n, w: _usd(n, "USD/(t/yr)", prov, w, fx, first_year),
        "economics.capex_per_t",
        prov,
    )
    jobs = _by_stage(
        raw["jobs_per_kt"],
        lambda n, w: scalar_of(n, "1/(kt/yr)", prov, w) / 1000.0,
        "economics.jobs_per_kt",
        prov,
    )
    life = _by_stage(
        raw["asset_life"], lambda n, w: scalar_of(n, "yr", prov, w), "economics.asset_life", prov
    )
    mine_gate = str(raw.get("mine_gate", "payability"))
    customs = (
        series_of(raw["customs_value"], "USD/t", prov, "economics.customs_value")
        if "customs_value" in raw
        else None
    )
    inputs = EconomicInputs(
        myr_per_usd=fx,
        corporate_tax_rate=scalar_of(
            raw["corporate_tax_rate"], "fraction", prov, "economics.corporate_tax_rate"
        ),
        wage_usd=wage,
        jobs_per_t=jobs,
        capex_usd_per_t=capex,
        asset_life=life,
        discount_rate=scalar_of(raw.get("discount_rate", 0.0), "fraction", prov, "economics.discount_rate"),
        magnet_materials_usd_per_t=(
            _usd(raw["magnet_materials"], "USD/t", prov, "economics.magnet_materials", fx, first_year)
            if "magnet_materials" in raw
            else 0.0
        ),
        mine_gate=mine_gate,
        customs_usd_per_t=customs,
    )
    return inputs, _multipliers(raw.get("multipliers"), prov)


def _multipliers(raw: Any, prov: Provenance) -> dict[str, dict[str, float]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError("expected a mapping", file=prov.file, field="economics.multipliers")
    kind = str(raw.get("kind", "none"))
    if kind not in ("none", "type1", "type2"):
        raise InputError(
            f"kind must be none, type1 or type2, got {kind!r}",
            file=prov.file,
            field="economics.multipliers.kind",
        )
    if kind == "none":
        return {}
    out: dict[str, dict[str, float]] = {}
    for stage, node in raw.items():
        if stage == "kind":
            continue
        where = f"economics.multipliers.{stage}"
        if not isinstance(node, Mapping):
            raise InputError("expected {value_added: ..., employment: ...}", file=prov.file, field=where)
        out[str(stage)] = {
            name: scalar_of(value, "dimensionless", prov, f"{where}.{name}") for name, value in node.items()
        }
        for name, value in out[str(stage)].items():
            if name not in ("value_added", "employment") or value < 1.0:
                raise InputError(
                    "expected value_added and employment multipliers of at least 1",
                    file=prov.file,
                    field=f"{where}.{name}",
                )
    return out
