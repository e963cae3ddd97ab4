"""Refinery feeds: what arrives at the gate (concentrate, MREC, leach liquor), as element flows per t REO.

A feed file (YAML) names its physical form and how to build it from sourced data::

    name: mt-weld-concentrate
    title: Mt Weld concentrate (Lynas design feed)
    form: concentrate            # concentrate | mrec | leach-liquor | chloride-liquor
    distribution: feed.mt_weld_concentrate   # dataset composition key (% of TREO), or a mapping (below)
    grade_treo: feed.mt_weld_concentrate.grade_treo   # t REO per t of material (dataset key)
    impurities_fraction_of_material: {Fe: process.feed...fe2o3_fraction, ...}  # oxide mass fraction keys
    th_ppm: feed.mt_weld_concentrate.th_ppm   # ppm of the material
    u_ppm: ...
    impurities_fraction_of_reo: {Al: process.feed.mrec.impurity_fraction_of_reo}  # oxide t per t REO
    phosphate_per_re: 1.0        # mol P per mol RE bound as REPO4 (monazite-type feeds; derived)
    extra_p2o5_fraction: process.feed...extra_p2o5_fraction

``distribution`` as a mapping: ``{from: feed.mt_weld_concentrate, elements: [Sm, Eu, ...]}`` keeps only those
elements (a derived heavy-RE feed such as SEGH). Feeds are built for 1 t/yr REO and scaled by the run's rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from mine2magnet.data.reader import read_mapping
from mine2magnet.elements import ELEMENTS, RARE_EARTHS, Composition
from mine2magnet.errors import InputError, parse_error_text
from mine2magnet.process.parameters import ParameterSet
from mine2magnet.process.stream import Stream

FEEDS_DIR = Path(__file__).parent / "feeds"

FeedForm = Literal["concentrate", "mrec", "leach-liquor", "chloride-liquor"]


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return value


class DistributionSubset(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", description="dataset composition key")
    elements: list[str] = Field(description="rare earths kept (others dropped)")


class FeedFile(BaseModel):
    """Schema of a feed file."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    title: str = ""
    form: FeedForm
    distribution: str | DistributionSubset = Field(description="dataset composition key (% of TREO)")
    grade_treo: str | None = Field(default=None, description="dataset key: t REO per t material")
    impurities_fraction_of_material: dict[str, str] = Field(
        default_factory=dict,
        description="element -> dataset key of its oxide's mass fraction of the material",
    )
    impurities_fraction_of_reo: dict[str, str] = Field(
        default_factory=dict, description="element -> dataset key of its oxide t per t REO"
    )
    th_ppm: str | None = None
    u_ppm: str | None = None
    th_ppm_of_reo: str | None = None
    #: mol P per mol RE (monazite REPO4 is 1; bounded at 10, far above any phosphate-bearing concentrate)
    phosphate_per_re: Annotated[float, BeforeValidator(_not_bool), Field(default=0.0, ge=0.0, le=10.0)]
    extra_p2o5_fraction: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Feed:
    """A feed per t/yr of REO: element flows and the mass of material carrying them.

    Attributes:
        name, title, form: as in the file.
        stream: t/yr of element for 1 t/yr of REO.
        material_t_per_t_reo: t of material (concentrate, MREC) per t REO, or None for liquors.
    """

    name: str
    title: str
    form: str
    stream: Stream
    material_t_per_t_reo: float | None

    def at_rate(self, reo_t_per_yr: float) -> tuple[Stream, float | None]:
        """Element flows (t/yr) and material mass (t/yr) at `reo_t_per_yr` of REO."""
        mass = None if self.material_t_per_t_reo is None else self.material_t_per_t_reo * reo_t_per_yr
        return self.stream.scale(reo_t_per_yr).renamed(self.name), mass


def _read(path: Path) -> FeedFile:
    raw = read_mapping(
        path,
        what="a feed mapping (a feed file must hold a mapping: name, form, distribution...)",
        context="cannot read feed file",
    )
    try:
        return FeedFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        more = len(exc.errors()) - 1
        raise InputError(
            err["msg"] + (f" (and {more} more problems)" if more else ""), file=str(path), field=field
        ) from None


def list_feeds() -> list[str]:
    """Names of the built-in feeds."""
    return sorted(p.stem for p in FEEDS_DIR.glob("*.yaml"))


def feed_path(name_or_path: str | Path) -> Path:
    """The file of a built-in feed name, or the user's feed file (must exist)."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if not p.exists():
            raise InputError("feed file not found", file=str(p))
        return p
    builtin = FEEDS_DIR / f"{name_or_path}.yaml"
    if builtin.exists():
        return builtin
    raise InputError(
        f"unknown feed {str(name_or_path)!r}; built-in feeds: {', '.join(list_feeds())}", field="feed"
    )


def _value(params: ParameterSet, key: str, unit: str, where: str, field: str) -> float:
    """A dataset value named by a feed file, with an error naming the file and field if the key is bad."""
    try:
        return params.value(key, unit)
    except InputError as exc:
        raise InputError(parse_error_text(exc), file=where, field=field) from None
    except KeyError as exc:
        raise InputError(str(exc.args[0]) if exc.args else repr(exc), file=where, field=field) from None


def load_feed(name_or_path: str | Path, params: ParameterSet) -> Feed:
    """Build a feed (per t/yr REO) from a built-in name or a feed file."""
    path = feed_path(name_or_path)
    spec = _read(path)
    where = path.name if path.parent == FEEDS_DIR else str(path)
    ds = params.dataset
    try:
        if isinstance(spec.distribution, str):
            fractions = dict(ds.composition(spec.distribution).fractions)
        else:
            base = ds.composition(spec.distribution.from_).fractions
            unknown = [e for e in spec.distribution.elements if e not in RARE_EARTHS]
            if unknown:
                raise InputError(f"not rare earths: {unknown}", file=where, field="distribution.elements")
            fractions = {e: base[e] for e in spec.distribution.elements if e in base}
    except KeyError as exc:
        raise InputError(str(exc), file=where, field="distribution") from None
    fractions = {s: f for s, f in fractions.items() if s in RARE_EARTHS and f > 0.0}
    if not fractions:
        raise InputError("the distribution holds no rare earth", file=where, field="distribution")
    total = sum(fractions.values())
    reo = Composition.from_oxide_mass({s: f / total for s, f in fractions.items()})  # 1 t REO
    elements = dict(reo.element_mass())
    material = None
    if spec.grade_treo is not None:
        grade = _value(params, spec.grade_treo, "fraction", where, "grade_treo")
        if not 0.0 < grade <= 1.0:
            raise InputError(f"grade must be in (0, 1], got {grade}", file=where, field="grade_treo")
        material = 1.0 / grade
        oxides: dict[str, float] = {}
        for el, key in spec.impurities_fraction_of_material.items():
            _check_element(el, where, "impurities_fraction_of_material")
            oxides[el] = (
                _value(params, key, "fraction", where, f"impurities_fraction_of_material.{el}") * material
            )
        if spec.phosphate_per_re > 0.0:
            re_kmol = sum(reo.moles().values())  # kmol per t REO (amounts read as t)
            p_t = spec.phosphate_per_re * re_kmol * ELEMENTS["P"].atomic_weight / 1000.0
            elements["P"] = elements.get("P", 0.0) + p_t
        if spec.extra_p2o5_fraction:
            extra = _value(params, spec.extra_p2o5_fraction, "fraction", where, "extra_p2o5_fraction")
            oxides["P"] = oxides.get("P", 0.0) + extra * material
        for el, t_oxide in oxides.items():
            elements[el] = elements.get(el, 0.0) + t_oxide / ELEMENTS[el].oxide_per_element
        for el, key, name in (("Th", spec.th_ppm, "th_ppm"), ("U", spec.u_ppm, "u_ppm")):
            if key:
                elements[el] = elements.get(el, 0.0) + _value(params, key, "fraction", where, name) * material
    for el, key in spec.impurities_fraction_of_reo.items():
        _check_element(el, where, "impurities_fraction_of_reo")
        f = _value(params, key, "fraction", where, f"impurities_fraction_of_reo.{el}")
        elements[el] = elements.get(el, 0.0) + f / ELEMENTS[el].oxide_per_element
    if spec.th_ppm_of_reo:
        th = _value(params, spec.th_ppm_of_reo, "fraction", where, "th_ppm_of_reo")
        elements["Th"] = elements.get("Th", 0.0) + th
    if material is not None:
        accounted = sum(Composition.from_element_mass(elements).oxide_mass().values())
        if accounted > material * (1.0 + 1e-9):
            raise InputError(
                f"the oxides of the feed ({accounted:.3f} t per t REO) exceed the material mass "
                f"({material:.3f} t per t REO): check grade and impurity fractions",
                file=where,
            )
    return Feed(spec.name, spec.title, spec.form, Stream(spec.name, elements), material)


def _check_element(el: str, where: str, field: str) -> None:
    if el not in ELEMENTS:
        raise InputError(f"unknown element {el!r}", file=where, field=field)


def feed_from_composition(name: str, comp: Composition, form: str = "chloride-liquor") -> Feed:
    """A feed given directly as a Composition (any scale; normalised to 1 t REO)."""
    total = comp.total_reo()
    if total <= 0.0:
        raise InputError("the feed composition holds no rare-earth oxide", field="feed")
    return Feed(name, name, form, Stream.from_composition(name, comp.scale(1.0 / total)), None)


def feed_summary(feed: Feed) -> Mapping[str, Any]:
    """Name, form and material mass (t per t REO, None for liquors) of a feed."""
    return {"name": feed.name, "form": feed.form, "material_t_per_t_reo": feed.material_t_per_t_reo}
