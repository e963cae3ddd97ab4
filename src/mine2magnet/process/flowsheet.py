"""Flowsheet files: the units of a refinery, their order per feed form, the SX tree, products and costs.

A flowsheet is YAML (JSON accepted), validated with pydantic; errors name the file and the field. Every
number is either a dataset key (a sourced value in ``mine2magnet.data``) or a parameter override with its
source and kind (see :class:`mine2magnet.process.parameters.ParameterSet`). See ``docs/flowsheets.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mine2magnet.data.reader import read_mapping
from mine2magnet.elements import ELEMENTS
from mine2magnet.errors import InputError
from mine2magnet.process.separation_train import CutSpec

FLOWSHEETS_DIR = Path(__file__).parent / "flowsheets"

UnitType = Literal[
    "acid-bake-leach", "hcl-dissolution", "carbonate-precipitation", "purification", "separation-train"
]
FeedForm = Literal["concentrate", "mrec", "leach-liquor", "chloride-liquor"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return value


#: a target purity or recovery of a cut: a fraction in (0, 1]
Target = Annotated[float, BeforeValidator(_not_bool), Field(gt=0.0, le=1.0)]
#: a separation factor relative to the least extractable element (published 1-1e5; accepted 1e-6-1e6)
Factor = Annotated[float, BeforeValidator(_not_bool), Field(ge=1e-6, le=1e6)]


def _element(symbol: str) -> str:
    if symbol not in ELEMENTS:
        raise ValueError(f"unknown element symbol {symbol!r}")
    return symbol


Element = Annotated[str, AfterValidator(_element)]


class Capacity(_Strict):
    key: str = Field(description="dataset key of the capacity")
    unit: str = Field(description="unit the capacity is read in, matching the unit's throughput measure")


class CutEntry(_Strict):
    id: str
    cut: str = Field(description="'Light|Heavy', e.g. 'Nd|Sm'")
    feed: str = Field(description="'train' or '<cut id>.raffinate' / '<cut id>.extract'")
    targets: dict[Literal["raffinate", "extract"], dict[Literal["purity", "recovery"], Target]]
    raffinate: str = Field(description="product name or cut id")
    extract: str = Field(description="product name or cut id")
    optional: bool = Field(
        default=False, description="skip the cut (no SX) when one side is absent from its feed"
    )

    @field_validator("cut")
    @classmethod
    def _two_elements(cls, v: str) -> str:
        sides = [x.strip() for x in v.split("|")]
        if len(sides) != 2:
            raise ValueError(f"expected 'Light|Heavy' (e.g. 'Nd|Sm'), got {v!r}")
        for side in sides:
            _element(side)
        if sides[0] == sides[1]:
            raise ValueError(f"a cut is between two different elements, got {v!r}")
        return v


class UnitEntry(_Strict):
    type: UnitType
    residue: str | None = Field(default=None, description="purification: name of its residue (default WLP)")
    capacity: Capacity | None = None
    extractant: str | None = Field(default=None, description="separation-train: extractant parameter set")
    separation_factors: dict[Element, Factor] | None = Field(
        default=None,
        description="separation-train: beta relative to the least extractable (if no extractant)",
    )
    separation_factors_source: str | None = None
    saponification_base: Literal["NaOH", "NH3", "MgO", "CaO"] = "NaOH"
    cuts: list[CutEntry] = Field(default_factory=list)


class PriceEntry(_Strict):
    key: str | None = Field(default=None, description="price deck key without year, e.g. price.NdPr_oxide")
    basket: bool = Field(
        default=False, description="value as payability x sum of the contained oxides' prices"
    )


class ProductEntry(_Strict):
    elements: list[Element] = Field(description="elements that count towards the product's purity")
    min_purity: float | None = Field(default=None, gt=0.0, le=1.0)
    purity_source: str | None = None
    min_recovery: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="SX recovery spec: share of the product's elements in the SX train feed reaching it",
    )
    recovery_source: str | None = None
    finishing: Literal["oxalate", "carbonate"] = "oxalate"
    saleable: bool = True
    price: PriceEntry = Field(default_factory=PriceEntry)
    metal: bool = Field(default=False, description="reduce the oxide to metal (electrolysis unit)")
    capacity: Capacity | None = None


class CapexEntry(_Strict):
    reference: str = Field(description="dataset key of the reference plant's capex")
    reference_capacity: str = Field(description="dataset key of its capacity")
    measure: Literal["feed_reo", "product_reo"]
    exponent: str = "process.capex.scaling_exponent"


class CostsEntry(_Strict):
    capex: CapexEntry
    headcount: str = Field(description="dataset key of the plant's headcount")
    price_year: int = 2024


class FeedsEntry(_Strict):
    default: str
    alternatives: list[str] = Field(default_factory=list)
    design_rate: str = Field(description="dataset key: design feed rate, t/yr REO")


class FlowsheetFile(_Strict):
    name: str
    title: str = ""
    description: str = ""
    feeds: FeedsEntry
    routes: dict[FeedForm, list[str]]
    units: dict[str, UnitEntry]
    products: dict[str, ProductEntry]
    costs: CostsEntry
    parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> FlowsheetFile:
        for form, route in self.routes.items():
            for u in route:
                if u not in self.units:
                    raise ValueError(f"routes.{form}: unknown unit {u!r}")
            trains = [u for u in route if self.units[u].type == "separation-train"]
            if len(trains) != 1 or route[-1] != trains[0]:
                raise ValueError(f"routes.{form}: must end with exactly one separation-train unit")
        for uid, unit in self.units.items():
            if unit.type != "separation-train":
                continue
            if not unit.cuts:
                raise ValueError(f"units.{uid}.cuts: a separation train needs at least one cut")
            if unit.extractant is None and unit.separation_factors is None:
                raise ValueError(f"units.{uid}: give an extractant or separation_factors")
            ids = [c.id for c in unit.cuts]
            if len(set(ids)) != len(ids):
                raise ValueError(f"units.{uid}.cuts: duplicate cut ids")
            outlets = {}
            for c in unit.cuts:
                for side in ("raffinate", "extract"):
                    dest = getattr(c, side)
                    if dest in ids:
                        target = next(x for x in unit.cuts if x.id == dest)
                        if target.feed != f"{c.id}.{side}":
                            raise ValueError(
                                f"units.{uid}.cuts.{dest}.feed: must be '{c.id}.{side}' (fed by cut {c.id})"
                            )
                    elif dest not in self.products:
                        raise ValueError(
                            f"units.{uid}.cuts.{c.id}.{side}: {dest!r} is neither a cut nor a product"
                        )
                    else:
                        outlets[dest] = c.id
                if c.feed != "train" and c.feed.split(".")[0] not in ids:
                    raise ValueError(f"units.{uid}.cuts.{c.id}.feed: unknown outlet {c.feed!r}")
            missing = sorted(set(self.products) - set(outlets))
            if missing:
                raise ValueError(f"products {missing} are not made by any cut of units.{uid}")
        return self


class Flowsheet:
    """A validated flowsheet (see :class:`FlowsheetFile` for fields) and the file it came from."""

    def __init__(self, spec: FlowsheetFile, file: str) -> None:
        self.spec = spec
        self.file = file

    @property
    def name(self) -> str:
        """The flowsheet's name (from the file)."""
        return self.spec.name

    def cuts(self, unit_id: str) -> list[CutSpec]:
        """The SX cuts of a separation-train unit, in file order."""
        unit = self.spec.units[unit_id]
        return [
            CutSpec(c.id, c.cut, c.feed, c.targets, c.raffinate, c.extract, c.optional) for c in unit.cuts
        ]

    def __repr__(self) -> str:
        return f"Flowsheet({self.name!r}, file={self.file!r})"


def list_flowsheets() -> list[str]:
    """Names of the reference flowsheets shipped with the package."""
    return sorted(p.stem for p in FLOWSHEETS_DIR.glob("*.yaml"))


def _path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml", ".json"):
        if not p.exists():
            raise InputError("flowsheet file not found", file=str(p))
        return p
    builtin = FLOWSHEETS_DIR / f"{name_or_path}.yaml"
    if builtin.exists():
        return builtin
    raise InputError(
        f"unknown flowsheet {str(name_or_path)!r}; reference flowsheets: {', '.join(list_flowsheets())}",
        field="flowsheet",
    )


def load_flowsheet(name_or_path: str | Path | dict[str, Any]) -> Flowsheet:
    """A reference flowsheet by name, a flowsheet file (YAML/JSON), or a dict; validated."""
    if isinstance(name_or_path, dict):
        raw, file = name_or_path, "<dict>"
    else:
        path = _path(name_or_path)
        file = path.name if path.parent == FLOWSHEETS_DIR else str(path)
        raw = read_mapping(
            path,
            label=file,
            what="a flowsheet mapping (a flowsheet file must hold a mapping: name, units...)",
            context="cannot read flowsheet",
        )
    if not isinstance(raw, dict):
        raise InputError("a flowsheet file must hold a mapping", file=file)
    try:
        spec = FlowsheetFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        raise InputError(
            msg + (f" (and {more} more problems)" if more else ""), file=file, field=field
        ) from None
    return Flowsheet(spec, file)
