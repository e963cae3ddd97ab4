"""The cascade spec: the YAML/JSON file (or dict) that describes one counter-current SX cascade.

Units: mol/h for component flows, L/h for volume flows, mol/L for concentrations. Stage 1 is the raffinate
end; the extraction section is stages 1..n, the scrub section n+1..n+m, the strip section (fed by the loaded
organic that leaves stage n+m) n+m+1..n+m+k. The full format is documented in ``docs/cascade-spec.md``.

``load_spec(path_or_dict)`` validates every field and raises :class:`~mine2magnet.errors.InputError` naming
the file and the field path. Building a spec from a dict is cheap (one pydantic validation, no I/O).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mine2magnet.data.reader import read_mapping
from mine2magnet.elements import ELEMENTS
from mine2magnet.errors import InputError


def _not_bool(value: Any) -> Any:
    """A number field refuses true/false (pydantic would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return value


NoBool = BeforeValidator(_not_bool)
PositiveFloat = Annotated[float, NoBool, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, NoBool, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, NoBool, Field(ge=0, le=1, allow_inf_nan=False)]
MurphreeFraction = Annotated[float, NoBool, Field(gt=0, le=1, allow_inf_nan=False)]
# Physical bounds of the inputs (issue 17): far outside any plant, tight enough that no solver overflows.
#: largest concentration of a species in either phase, mol/L (concentrated HCl is 12 mol/L; rare-earth
#: chloride liquors hold 1-3 mol/L of metal; kind: assumption, bound chosen 20 mol/L)
MAX_CONCENTRATION = 20.0
#: largest metal flow of a stream, mol/h (1e9 mol/h is ~150 kt/h of oxide, 10^4 times the world's output)
MAX_FLOW = 1e9
#: volume flows, L/h: from 1e-9 (a droplet a year would be ~1e-6) to 1e12 (the Amazon carries ~7e14)
MIN_VOLUME_FLOW, MAX_VOLUME_FLOW = 1e-9, 1e12
#: separation factors and distribution ratios (relative): published adjacent-pair factors are 1.1-10 and a
#: whole series spans < 1e5, distribution ratios < 1e4; accepted within 1e-6..1e6
MIN_FACTOR, MAX_FACTOR = 1e-6, 1e6
Concentration = Annotated[float, NoBool, Field(ge=0, le=MAX_CONCENTRATION, allow_inf_nan=False)]
Flow = Annotated[float, NoBool, Field(ge=0, le=MAX_FLOW, allow_inf_nan=False)]
PositiveFlow = Annotated[float, NoBool, Field(gt=0, le=MAX_FLOW, allow_inf_nan=False)]
VolumeFlow = Annotated[float, NoBool, Field(ge=MIN_VOLUME_FLOW, le=MAX_VOLUME_FLOW, allow_inf_nan=False)]
SeparationFactor = Annotated[float, NoBool, Field(ge=MIN_FACTOR, le=MAX_FACTOR, allow_inf_nan=False)]
DistributionRatio = Annotated[float, NoBool, Field(ge=0, le=MAX_FACTOR, allow_inf_nan=False)]
#: log10 Kex of a mass-action extractant (published P507/D2EHPA values lie within -10..+5)
Log10Kex = Annotated[float, NoBool, Field(ge=-30, le=30, allow_inf_nan=False)]
#: empirical pH slopes (a ~ the charge, 1-4) and intercepts; bounded so 10**(a pH + b) stays finite
PhSlope = Annotated[float, NoBool, Field(ge=-10, le=10, allow_inf_nan=False)]
PhIntercept = Annotated[float, NoBool, Field(ge=-50, le=50, allow_inf_nan=False)]
SmallPositive = Annotated[float, NoBool, Field(gt=0, le=10, allow_inf_nan=False)]
SECTIONS = ("extraction", "scrub", "strip")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


# ---------------------------------------------------------------------------------------------- models


class ConstantDistributionModel(_Strict):
    """Distribution ratios D_i = [i]org/[i]aq fixed per section (a linear cascade)."""

    type: Literal["constant-distribution"]
    #: {section: {component: D}}; a flat {component: D} applies to every section.
    distribution_ratios: dict[str, dict[str, DistributionRatio]]

    @field_validator("distribution_ratios", mode="before")
    @classmethod
    def _flat_means_all_sections(cls, v: Any) -> Any:
        if isinstance(v, Mapping) and v and all(not isinstance(x, Mapping) for x in v.values()):
            return {s: dict(v) for s in SECTIONS}
        return v

    @field_validator("distribution_ratios")
    @classmethod
    def _known_sections(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        bad = sorted(set(v) - set(SECTIONS))
        if bad:
            raise ValueError(f"unknown section(s) {bad}; expected some of {list(SECTIONS)}")
        return v


class LoadedSeparationFactorModel(_Strict):
    """Xu Guangxian's constant mixed-extraction-ratio model: y_i = beta_i x_i / sum_j beta_j x_j."""

    type: Literal["loaded-separation-factor"]
    #: relative separation factors beta_i (only ratios matter); the larger is the more extractable.
    separation_factors: dict[str, SeparationFactor]


class PhCoefficients(_Strict):
    """log10 D = a*pH + b; PrOMMiS's DEHPA form log10 D = (a0 + a1*dos)*pH + b0 + b1*log10(dos); or a D.

    The constant form is what PrOMMiS uses for impurities (Al, Ca, Fe, Sc).
    """

    a: PhSlope | None = None
    b: PhIntercept | None = None
    a0: PhSlope | None = None
    a1: PhSlope = 0.0
    b0: PhIntercept | None = None
    b1: PhIntercept = 0.0
    D: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _one_form(self) -> PhCoefficients:
        simple = self.a is not None or self.b is not None
        dosage = self.a0 is not None or self.b0 is not None
        const = self.D is not None
        if simple + dosage + const != 1:
            raise ValueError("give exactly one of {a, b}, {a0, a1, b0, b1} (dosage form) or {D} (constant)")
        if simple and (self.a is None or self.b is None):
            raise ValueError("the form log10 D = a*pH + b needs both a and b")
        if dosage and (self.a0 is None or self.b0 is None):
            raise ValueError("the dosage form needs a0 and b0 (a1, b1 default to 0)")
        if (simple or const) and (self.a1 != 0.0 or self.b1 != 0.0):
            raise ValueError("a1/b1 belong to the dosage form (a0, a1, b0, b1)")
        return self

    @property
    def uses_dosage(self) -> bool:
        return self.a0 is not None


class ExtractantDosage(_Strict):
    """Extractant content for the dosage form: vol% in the organic and how loading consumes it."""

    #: extractant content of the barren organic, vol%
    volume_percent: Annotated[float, NoBool, Field(gt=0, le=100, allow_inf_nan=False)]
    #: molar concentration of the extractant (monomer) at that vol%, mol/L
    concentration: Annotated[float, NoBool, Field(gt=0, le=MAX_CONCENTRATION, allow_inf_nan=False)]
    #: extractant molecules (monomer) bound per unit charge of extracted metal (3 per RE3+ -> 1.0 ... 2.0)
    per_charge: PositiveFloat = 1.0
    #: if false, dos is the fixed volume_percent (PrOMMiS before 2026), if true the free vol% after loading
    free: bool = True
    #: what volume_percent/concentration describe: "barren", the metal-free organic (metal the inlet organic
    #: carries occupies part of it), or "inlet", the free extractant of the inlet organic with its metal on
    #: top (PrOMMiS 1.1's convention)
    basis: Literal["barren", "inlet"] = "barren"


#: pKa of HSO4- <=> H+ + SO4 2- used by default (kind: assumption, range 1.9-2.0 at I -> 0, lower in
#: concentrated liquors where activity coefficients raise the concentration-basis Ka). 1.99 is the value DOE's
#: PrOMMiS uses (github.com/prommis/prommis, src/prommis/properties/sulfuric_acid_leaching_properties.py,
#: Ka2 = 10^-1.99 mol/L, release 1.1.0); the thermodynamic K2 measured by e.m.f. is 0.0113 +- 0.0005 mol/kg at
#: 25 C (pKa 1.95; "Ionization of moderately strong acids in aqueous solution. Part 2", J. Chem. Soc.,
#: Faraday Trans. 1, 1973, 69, 94, measured;
#: https://pubs.rsc.org/en/content/articlehtml/1973/f1/f19736900094).
BISULFATE_PKA = 1.99
PKa = Annotated[float, Field(ge=-1, le=4, allow_inf_nan=False)]


class EmpiricalPhModel(_Strict):
    """log10 D_i = a_i pH + b_i with a proton balance (each ion of charge z extracted releases z H+)."""

    type: Literal["empirical-ph"]
    coefficients: dict[str, PhCoefficients]
    proton_balance: bool = True
    extractant: ExtractantDosage | None = None
    #: HSO4- dissociation constant used when aqueous streams carry `sulfate` (concentration basis)
    bisulfate_pKa: PKa = BISULFATE_PKA  # noqa: N815

    @model_validator(mode="after")
    def _dosage_needs_extractant(self) -> EmpiricalPhModel:
        if any(c.uses_dosage for c in self.coefficients.values()) and self.extractant is None:
            raise ValueError("dosage-form coefficients need `extractant: {volume_percent, concentration}`")
        return self


class ExtractantParameters(_Strict):
    """Mass-action parameters of an acidic extractant: RE^z+ + k (HA)2 <=> RE(A)z(HA)(2k-z) + z H+."""

    name: str = "custom"
    #: log10 of the extraction constant Kex per component (mol/L units of the mass-action expression)
    log10_kex: dict[str, Log10Kex]
    #: exponent k of the free dimer concentration in D (default 3 for trivalent rare earths)
    exponent: dict[str, SmallPositive] | SmallPositive = 3.0
    #: dimers (HA)2 bound per extracted ion (the loading stoichiometry; 3 for RE(HA2)3, 1.5 for REA3)
    stoichiometry: dict[str, SmallPositive] | SmallPositive = 3.0
    source: str = "user supplied"


#: Cations a saponified extractant may carry (sodium from NaOH, ammonium from NH3 or NH4OH).
COUNTER_IONS = ("Na", "NH4")


class CounterIon(_Strict):
    """The cation of a saponified extractant, exchanged stage by stage (a species of the mass-action model).

    The saponified organic carries M+ (Na+ or NH4+) as MA·HA: M+ + (HA)2(org) <=> MA·HA(org) + H+, with
    K = [MA·HA][H+] / ([M+][(HA)2]) (mol/L basis), so D_M = K [(HA)2]free / [H+]; it exchanges with rare
    earths through RE3+ + 3 MA·HA(org) <=> RE(A·HA)3(org) + 3 M+ (K_RE / K^3, not a separate constant).
    """

    #: the counter-ion: "Na" (NaOH saponification) or "NH4" (ammonia)
    ion: Literal["Na", "NH4"] = "Na"
    #: log10 K of M+ + (HA)2(org) <=> MA·HA(org) + H+; None: the shipped value of the named extractant
    log10_k: Annotated[float, NoBool, Field(ge=-15, le=5, allow_inf_nan=False)] | None = None


class MassActionModel(_Strict):
    """Acidic organophosphorus extractant: D_i = Kex_i [(HA)2]free^k / [H+]^z with balances."""

    type: Literal["mass-action"]
    #: a shipped parameter set (see mine2magnet.separation.equilibrium.extractants) or explicit parameters
    extractant: str | ExtractantParameters
    #: total extractant in the organic as dimer (HA)2, mol/L (a monomer concentration c gives c/2)
    concentration: Annotated[float, NoBool, Field(gt=0, le=MAX_CONCENTRATION, allow_inf_nan=False)]
    #: fraction of the extractant (monomer basis) pre-neutralised (saponified) with base before it enters
    #: stage 1
    saponification: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    #: the saponified organic's cation, exchanged stage by stage with protons and metal; None: the base is
    #: released in stage 1 (the limit of a counter-ion the organic does not hold)
    counter_ion: CounterIon | None = None
    #: HSO4- dissociation constant used when aqueous streams carry `sulfate` (concentration basis)
    bisulfate_pKa: PKa = BISULFATE_PKA  # noqa: N815

    @model_validator(mode="after")
    def _one_counter_ion_per_dimer(self) -> MassActionModel:
        if self.counter_ion is not None and self.saponification >= 0.5:
            raise ValueError(
                f"saponification {self.saponification} with a counter-ion: the saponified form MA·HA holds "
                "at most one cation per dimer (HA)2, so the degree (monomer basis) must be below 0.5"
            )
        return self


Model = Annotated[
    ConstantDistributionModel | LoadedSeparationFactorModel | EmpiricalPhModel | MassActionModel,
    Field(discriminator="type"),
]

# ---------------------------------------------------------------------------------------------- streams


class Stages(_Strict):
    extraction: Annotated[int, Field(ge=1, le=2000)]
    scrub: Annotated[int, Field(ge=0, le=2000)] = 0
    strip: Annotated[int, Field(ge=0, le=2000)] = 0


class AqueousStream(_Strict):
    """An aqueous inlet: volume flow (L/h), metal concentrations (mol/L) and acidity (pH or acid mol/L H+).

    With `sulfate` (total sulfate [SO4 2-] + [HSO4-], mol/L) the physical models keep HSO4- <=> H+ + SO4 2- at
    equilibrium in every stage: `acid` is then the total acidic protons [H+] + [HSO4-] and `pH` the free H+.
    """

    volume_flow: VolumeFlow | None = None
    concentration: dict[str, Concentration] = Field(default_factory=dict)
    pH: Annotated[float, Field(ge=-1.5, le=8, allow_inf_nan=False)] | None = None  # noqa: N815
    acid: Concentration | None = None
    sulfate: Concentration | None = None

    @model_validator(mode="after")
    def _one_acidity(self) -> AqueousStream:
        if self.pH is not None and self.acid is not None:
            raise ValueError("give pH or acid (mol/L H+), not both")
        return self

    def proton_concentration(self) -> float | None:
        """Free H+ concentration, mol/L (None if neither pH nor acid was given)."""
        if self.acid is not None:
            return self.acid
        if self.pH is not None:
            return 10.0 ** (-self.pH)
        return None

    def total_acidity(self, bisulfate_ka: float) -> float | None:
        """Total acidic protons [H+] + [HSO4-], mol/L (None if neither pH nor acid was given).

        `acid` is already that total; a `pH` (free H+, h) with `sulfate` S adds S h / (h + Ka) of HSO4-.
        """
        if self.acid is not None:
            return self.acid
        if self.pH is None:
            return None
        h = 10.0 ** (-self.pH)
        return h + (self.sulfate or 0.0) * h / (h + bisulfate_ka)


class Feed(AqueousStream):
    """The cascade feed: at `stage`, in `phase`; either `flow` (mol/h) or `volume_flow` + `concentration`."""

    stage: Annotated[int, NoBool, Field(ge=1, le=6000)]
    phase: Literal["aqueous", "organic"] = "aqueous"
    flow: dict[str, Flow] | None = None

    @model_validator(mode="after")
    def _flow_or_concentration(self) -> Feed:
        if self.flow is None and not self.concentration:
            raise ValueError("give `flow` (mol/h) or `volume_flow` with `concentration` (mol/L)")
        if self.flow is not None and self.concentration:
            raise ValueError("give `flow` or `concentration`, not both")
        if self.concentration and self.volume_flow is None:
            raise ValueError("`concentration` needs `volume_flow` (L/h)")
        return self

    def component_flow(self, components: tuple[str, ...]) -> dict[str, float]:
        """Feed flow per component, mol/h."""
        if self.flow is not None:
            return {c: float(self.flow.get(c, 0.0)) for c in components}
        v = float(self.volume_flow or 0.0)
        return {c: v * float(self.concentration.get(c, 0.0)) for c in components}


class OrganicInlet(_Strict):
    """Organic entering stage 1: `ree_flow` S (LSF model) or `volume_flow` with optional inlet loading."""

    ree_flow: PositiveFlow | None = None
    volume_flow: VolumeFlow | None = None
    #: metal already in the inlet organic, mol/L (default metal-free)
    concentration: dict[str, Concentration] = Field(default_factory=dict)


class ScrubInlet(AqueousStream):
    """Scrub liquor entering stage n+m: `ree_flow` W (LSF) or volume flow, acidity and metal content."""

    ree_flow: Flow | None = None


class StripInlet(AqueousStream):
    """Strip liquor entering the last strip stage.

    Physical models: `volume_flow` and acidity. LSF model: `complete: true` (everything stripped) or
    `distribution_ratios` (strip D per component) with `volume_flow` and the organic `organic_volume_flow`.
    """

    complete: bool = False
    distribution_ratios: dict[str, DistributionRatio] | None = None
    #: LSF only: organic volume flow through the strip section, L/h
    organic_volume_flow: VolumeFlow | None = None


class Efficiency(_Strict):
    """Murphree stage efficiency per section (organic phase, 0 < E <= 1), fixed or kinetic.

    Kinetic (beside the fixed values, which must then stay 1): a first-order approach to equilibrium in a
    perfectly mixed mixer, E_k = 1 - exp(-rate_constant * tau_k) with the residence time
    tau_k = mixer_volume / (Va_k + Vo_k) of each stage's mixer (h), so E follows the stage's flows.
    """

    extraction: MurphreeFraction = 1.0
    scrub: MurphreeFraction = 1.0
    strip: MurphreeFraction = 1.0
    #: mass-transfer rate constant of the mixer, 1/h (kinetic efficiency; needs ``mixer_volume``)
    rate_constant: PositiveFloat | None = None
    #: working volume of one mixer, L (kinetic efficiency)
    mixer_volume: PositiveFloat | None = None

    @model_validator(mode="after")
    def _kinetic(self) -> Efficiency:
        if (self.rate_constant is None) != (self.mixer_volume is None):
            missing = "mixer_volume (L)" if self.mixer_volume is None else "rate_constant (1/h)"
            raise ValueError(
                f"a kinetic efficiency needs rate_constant and mixer_volume: {missing} is missing"
            )
        if self.rate_constant is not None:
            fixed = [s for s in SECTIONS if getattr(self, s) != 1.0]
            if fixed:
                raise ValueError(
                    f"give either a fixed Murphree efficiency ({fixed[0]}) or a kinetic one (rate_constant), "
                    "not both"
                )
        return self

    @property
    def kinetic(self) -> bool:
        """Whether the efficiency follows from the mixer residence time."""
        return self.rate_constant is not None

    def of(self, section: str) -> float:
        """The fixed efficiency of a section (1 when the efficiency is kinetic: see :meth:`at`)."""
        return float(getattr(self, section))

    def at(self, section: str, aqueous_flow: float, organic_flow: float) -> float:
        """Efficiency of a stage of ``section`` whose aqueous and organic phases leave at these flows, L/h."""
        if self.rate_constant is None or self.mixer_volume is None:
            return self.of(section)
        tau = self.mixer_volume / (aqueous_flow + organic_flow)
        return float(-math.expm1(-self.rate_constant * tau))


EntrainedFraction = Annotated[float, Field(ge=0, lt=0.5, allow_inf_nan=False)]


class SectionEntrainment(_Strict):
    """Entrainment leaving each stage of a section, as volume fractions of the carrying phase."""

    #: L of aqueous phase carried by each L of organic leaving a stage (towards the next stage up)
    aqueous_in_organic: EntrainedFraction = 0.0
    #: L of organic phase carried by each L of aqueous leaving a stage (towards the stage below)
    organic_in_aqueous: EntrainedFraction = 0.0


class Entrainment(_Strict):
    """Entrainment of each phase in the other, per section (typically 0.001-0.01 in mixer-settlers)."""

    extraction: SectionEntrainment = Field(default_factory=SectionEntrainment)
    scrub: SectionEntrainment = Field(default_factory=SectionEntrainment)
    strip: SectionEntrainment = Field(default_factory=SectionEntrainment)

    def of(self, section: str) -> SectionEntrainment:
        return getattr(self, section)  # type: ignore[no-any-return]

    @property
    def any(self) -> bool:
        """Whether any section entrains anything."""
        return any(
            e.aqueous_in_organic > 0.0 or e.organic_in_aqueous > 0.0
            for e in (self.extraction, self.scrub, self.strip)
        )


class SettlerVolume(_Strict):
    """Settler holdup of each phase per stage, L (0: no settler for that phase)."""

    aqueous: NonNegativeFloat = 0.0
    organic: NonNegativeFloat = 0.0


#: the inlet streams an event of `dynamics.events` may change
EVENT_STREAMS = ("feed", "organic", "scrub", "strip")


class DynamicEvent(_Strict):
    """A step change of inlet streams at time `at` (h): fields merged into the spec's `feed`, `organic`,
    `scrub` or `strip` (e.g. ``{at: 10, feed: {concentration: {Nd: 0.5}}}``), kept until a later event."""

    at: NonNegativeFloat
    feed: dict[str, Any] | None = None
    organic: dict[str, Any] | None = None
    scrub: dict[str, Any] | None = None
    strip: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> DynamicEvent:
        if all(getattr(self, name) is None for name in EVENT_STREAMS):
            raise ValueError(f"an event changes at least one of {list(EVENT_STREAMS)}")
        return self


StageValues = NonNegativeFloat | list[NonNegativeFloat]


class InitialProfile(_Strict):
    """Stage contents at t = 0: concentrations per component, one value for every stage or a list with one
    per stage (stage 1 first). Physical and constant-distribution models: mol/L of each phase; the
    loaded-separation-factor model: relative amounts (each phase's composition, normalised)."""

    aqueous: dict[str, StageValues] = Field(default_factory=dict)
    organic: dict[str, StageValues] = Field(default_factory=dict)


class Dynamics(_Strict):
    """Mixer-settler holdups, start, horizon and events of a dynamic run (``simulate_dynamic``).

    Times in h, volumes in L. Each stage is a perfectly mixed mixer (phases at equilibrium, or at the
    spec's Murphree efficiency) and a settler per phase (``settler_cells`` stirred cells in series: 1 is a
    stirred volume, more approach the plug-flow delay volume / flow). See docs/cascade-spec.md.
    """

    #: mixer volume of each stage (both phases), L
    mixer_volume: PositiveFloat
    #: settler holdup of each phase per stage, L; a number gives both phases that volume
    settler_volume: SettlerVolume = Field(default_factory=SettlerVolume)
    #: stirred cells in series per settler phase (1: a stirred volume; many: plug flow)
    settler_cells: Annotated[int, Field(ge=1, le=50)] = 1
    #: aqueous share of the mixer volume; default: each stage's share of the volume flows at t = 0
    aqueous_fraction: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = None
    #: "fresh" (metal-free aqueous at its steady acidity, inlet organic; LSF: every stage at the feed
    #: composition), "steady" (the `simulate` steady state) or explicit stage contents
    initial: Literal["fresh", "steady"] | InitialProfile = "fresh"
    #: end of the run, h; omitted: run until the outlets are within `tolerance` of the steady state
    until: PositiveFloat | None = None
    #: spacing of the output times, h (default: until / 200, or a tenth of the longest stage residence time)
    output_every: PositiveFloat | None = None
    #: times (h) of the stage profiles reported (default: the start and the end)
    profiles_at: list[NonNegativeFloat] | None = None
    #: steady state reached when every outlet flow is within this fraction of the total metal inflow of
    #: its steady value
    tolerance: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 1e-4
    #: longest run when `until` is omitted, h (default: 100,000 stage residence times)
    max_time: PositiveFloat | None = None
    #: relative tolerance of the integrator (absolute: 1e-2 of it times each holdup's scale, mol or eq)
    rtol: Annotated[float, Field(ge=1e-13, le=1e-3, allow_inf_nan=False)] = 1e-7
    #: SciPy's implicit integrator: "BDF" (variable order 1-5) or "Radau" (implicit Runge-Kutta, order 5)
    method: Literal["BDF", "Radau"] = "BDF"
    events: list[DynamicEvent] = Field(default_factory=list)

    @field_validator("settler_volume", mode="before")
    @classmethod
    def _scalar_settler(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return {"aqueous": v, "organic": v}
        return v

    @field_validator("events")
    @classmethod
    def _events_in_order(cls, v: list[DynamicEvent], info: ValidationInfo) -> list[DynamicEvent]:
        times = [e.at for e in v]
        if times != sorted(times):
            raise ValueError("give the events in the order of their times `at`")
        until = info.data.get("until")
        if until is not None and times and times[-1] >= until:
            raise ValueError(f"an event at {times[-1]:g} h is not before until = {until:g} h")
        return v


class Targets(BaseModel):
    """Design targets (read by `design`, ignored by `simulate`)."""

    model_config = ConfigDict(extra="allow", frozen=True)


# ---------------------------------------------------------------------------------------------- the spec


class CascadeSpec(_Strict):
    """One counter-current cascade: components, model, stages, inlets (see docs/cascade-spec.md)."""

    components: tuple[str, ...]
    #: ionic charge per component; defaults to the element table (3 for rare earths)
    charges: dict[str, Annotated[int, Field(ge=1, le=4)]] = Field(default_factory=dict)
    model: Model
    stages: Stages | None = None
    feed: Feed
    organic: OrganicInlet | None = None
    scrub: ScrubInlet | None = None
    strip: StripInlet | None = None
    efficiency: Efficiency = Field(default_factory=Efficiency)
    #: entrainment of each phase in the other per section (volume fractions; default none)
    entrainment: Entrainment = Field(default_factory=Entrainment)
    cut: str | None = None
    targets: dict[str, Any] | None = None
    #: mixer-settler holdups, start and events for ``simulate_dynamic`` (ignored by ``simulate``)
    dynamics: Dynamics | None = None

    @field_validator("components")
    @classmethod
    def _components(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one component is needed")
        if len(set(v)) != len(v):
            raise ValueError("components are repeated")
        unknown = [c for c in v if c not in ELEMENTS]
        if unknown:
            raise ValueError(f"unknown element symbol(s) {unknown}")
        return v

    @field_validator("efficiency", mode="before")
    @classmethod
    def _scalar_efficiency(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return {s: v for s in SECTIONS}
        return v

    @model_validator(mode="after")
    def _consistent(self) -> CascadeSpec:
        comps = set(self.components)
        _check_keys(self.charges, comps, "charges")
        _check_keys(self.feed.flow or {}, comps, "feed.flow")
        _check_keys(self.feed.concentration, comps, "feed.concentration")
        m = self.model
        if isinstance(m, LoadedSeparationFactorModel):
            _check_all(m.separation_factors, comps, "model.separation_factors")
        elif isinstance(m, ConstantDistributionModel):
            for sec, d in m.distribution_ratios.items():
                _check_keys(d, comps, f"model.distribution_ratios.{sec}")
        elif isinstance(m, EmpiricalPhModel):
            _check_all(m.coefficients, comps, "model.coefficients")
        elif isinstance(m, MassActionModel) and isinstance(m.extractant, ExtractantParameters):
            _check_all(m.extractant.log10_kex, comps, "model.extractant.log10_kex")
        if self.organic is not None:
            _check_keys(self.organic.concentration, comps, "organic.concentration")
        for name in ("scrub", "strip"):
            stream = getattr(self, name)
            if stream is not None:
                _check_keys(stream.concentration, comps, f"{name}.concentration")
        if self.dynamics is not None and isinstance(self.dynamics.initial, InitialProfile):
            for phase in ("aqueous", "organic"):
                values = getattr(self.dynamics.initial, phase)
                _check_keys(values, comps, f"dynamics.initial.{phase}")
                n_stages = sum(self.stages.model_dump().values()) if self.stages is not None else None
                for comp, v in values.items():
                    if isinstance(v, list) and len(v) != n_stages:
                        raise ValueError(
                            f"dynamics.initial.{phase}.{comp}: {len(v)} values for {n_stages} stages"
                        )
        _check_feed_total(self)
        _check_cut(self.cut, self.components)
        _check_targets(self.targets)
        if self.stages is not None:
            total = self.stages.extraction + self.stages.scrub
            if self.feed.stage > total:
                raise ValueError(
                    f"feed.stage: stage {self.feed.stage} is beyond the extraction+scrub stages (1..{total})"
                )
        return self

    # ------------------------------------------------------------------ conveniences for the solvers
    def charge(self, component: str) -> int:
        """Ionic charge of a component (spec override, else the element table)."""
        return int(self.charges.get(component, ELEMENTS[component].charge))

    @property
    def n_main(self) -> int:
        """Stages in the extraction + scrub sections."""
        assert self.stages is not None
        return self.stages.extraction + self.stages.scrub

    def section_of(self, stage: int) -> str:
        """Section name of a 1-based stage number."""
        assert self.stages is not None
        if stage <= self.stages.extraction:
            return "extraction"
        if stage <= self.n_main:
            return "scrub"
        return "strip"


#: smallest share of the feed's metal a component may have in the physical models (0 is fine): their stage
#: balances close to ~1e-15 of the total metal, so a smaller trace is noise (a 1e-300 mol/L trace of La beside
#: 0.1 mol/L of Ce came out with a recovery of 1e10)
MIN_TRACE_SHARE = 1e-15


def _check_feed_total(spec: CascadeSpec) -> None:
    """The feed's metal flow, mol/h (volume flow x concentrations): above 0, at most MAX_FLOW; in the physical
    models each component present is at least MIN_TRACE_SHARE of it."""
    flows = spec.feed.component_flow(spec.components)
    total = sum(flows.values())
    if isinstance(spec.model, EmpiricalPhModel | MassActionModel) and total > 0:
        trace = [c for c, f in flows.items() if 0 < f < MIN_TRACE_SHARE * total]
        if trace:
            raise ValueError(
                f"feed: {trace} below {MIN_TRACE_SHARE:g} of the feed's metal cannot be resolved by the "
                "physical models (give 0 or a larger amount)"
            )
    if not 0 < total <= MAX_FLOW:
        raise ValueError(
            f"feed: the feed carries {total:.3g} mol/h of metal, expected above 0 and at most {MAX_FLOW:g}"
        )


def _check_cut(cut: Any, components: tuple[str, ...]) -> None:
    """A cut 'Light|Heavy' names two different components of the spec."""
    if cut is None:
        return
    if cut.count("|") != 1:
        raise ValueError(f"cut: expected 'Light|Heavy' (e.g. 'Nd|Sm'), got {cut!r}")
    left, right = (x.strip() for x in cut.split("|"))
    for name in (left, right):
        if name not in components:
            raise ValueError(f"cut: {name!r} is not one of the components {list(components)}")
    if left == right:
        raise ValueError(f"cut: a cut is between two different components, got {cut!r}")


def _check_targets(targets: Mapping[str, Any] | None) -> None:
    """Design targets: each outlet's purity and recovery is a finite number above 0 (a target of 1 or more
    is refused by the design as infeasible: it needs infinitely many stages)."""
    for side, goals in (targets or {}).items():
        if side not in ("raffinate", "extract") or not isinstance(goals, Mapping):
            continue
        for key in ("purity", "recovery"):
            if key not in goals:
                continue
            v = goals[key]
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            if not ok:
                raise ValueError(f"targets.{side}.{key}: expected a fraction in (0, 1), got {v!r}")


def _check_keys(mapping: Mapping[str, Any], comps: set[str], field: str) -> None:
    extra = sorted(set(mapping) - comps)
    if extra:
        raise ValueError(f"{field}: {extra} not in components")


def _check_all(mapping: Mapping[str, Any], comps: set[str], field: str) -> None:
    _check_keys(mapping, comps, field)
    missing = sorted(comps - set(mapping))
    if missing:
        raise ValueError(f"{field}: missing component(s) {missing}")


# ---------------------------------------------------------------------------------------------- loading


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif p in (
            "constant-distribution",
            "loaded-separation-factor",
            "empirical-ph",
            "mass-action",
            "function-after[_consistent()]",
        ) or str(p).startswith(("function-", "tagged-union", "union")):
            continue
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(spec)"


def load_spec(
    source: str | Path | Mapping[str, Any] | CascadeSpec, *, file: str | None = None
) -> CascadeSpec:
    """Read and validate a cascade spec from a YAML/JSON file path or a dict.

    Raises:
        InputError: naming the file, the field path (e.g. ``model.separation_factors``) and what was expected.
    """
    if isinstance(source, CascadeSpec):
        return source
    if isinstance(source, Mapping):
        data: Any = source
        where = file
    else:
        path = Path(source)
        where = str(path)
        data = read_mapping(path, label=where, what="a cascade spec mapping (components, model, ...)")
    try:
        return CascadeSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a union (e.g. `extractant: name | parameters`) reports each branch: name the branch the input took
        err = next((e for e in errors if "str" not in e["loc"] or e["type"] != "string_type"), errors[0])
        field = _field_path(tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        head, sep, tail = msg.partition(": ")
        if field == "(spec)" and sep and " " not in head:  # a cross-field check names its field first
            field, msg = head, tail
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise InputError(f"{msg}{more}", file=where, field=field) from None
