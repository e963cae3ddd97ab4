"""A mutation fuzzer over every shipped input kind, deterministic by seed.

Seeds are the shipped inputs: the cascade examples (``separation/examples``), the reference flowsheets and
feeds (``process/flowsheets``, ``process/feeds``), the built-in scenarios and overrides and the data files
(``data/values``, ``data/sources``). Each seed file is mutated (a key deleted, a value of the wrong type,
NaN, infinities, 1e+-300, 2**63, a negative or zero, an unknown element or reference, a duplicated key, an
empty, binary, UTF-16, non-UTF-8 or truncated file, deep nesting, an alias bomb, a file past the size limit)
and each mutant is run the way a user runs it, in a forked child process with a wall-time limit and an
address-space limit:

* cascade specs: ``mine2magnet cascade simulate|design|dynamics FILE --json`` (the CLI in the child);
* flowsheets: ``mine2magnet refinery run FILE --json``; feeds: ``refinery run <its flowsheet> --feed FILE``;
* scenarios and overrides: ``load_scenario`` + ``run_scenario`` (the API under ``mine2magnet run``);
* data files: ``read_dataset`` on a copy of the package data folder with the mutated file in place.

Outcomes: ``refused`` (exit 1 with one line naming the file), ``refused-unclear`` (refused but on several
lines or without the file's name), ``accepted`` (ran; output checked: mass balance, non-negative flows and
stocks, purities and recoveries in [0, 1], finite numbers), ``insane`` (ran but failed those checks),
``traceback`` (any other exception), ``hang`` (past the time limit), ``memory`` (MemoryError or killed past
the memory limit), ``warning`` (ran or refused but leaked a Python warning to stderr).

``benchmarks/fuzz_campaign.py`` runs the large campaign; ``tests/fuzz/test_fuzz_ci.py`` a fast subset.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import mine2magnet

PACKAGE = Path(mine2magnet.__file__).parent
EXAMPLES = PACKAGE / "separation" / "examples"
FLOWSHEETS = PACKAGE / "process" / "flowsheets"
FEEDS = PACKAGE / "process" / "feeds"
SCENARIOS = PACKAGE / "scenario" / "scenarios"
DATA = PACKAGE / "data"

KINDS = ("cascade", "flowsheet", "feed", "scenario", "data")
DEFECTS = ("refused-unclear", "insane", "traceback", "hang", "memory", "warning")

#: the flowsheet each feed is run through (its design feed)
FEED_FLOWSHEET = {
    "kalgoorlie-mrec": "lynas-malaysia",
    "mt-weld-concentrate": "lynas-malaysia",
    "segh-mt-weld": "hre-circuit",
    "malaysia-ionic-clay-mrec": "ionic-clay-refinery",
    "malaysia-ionic-clay-liquor": "ionic-clay-refinery",
    "segh-malaysia-ionic-clay": "hre-circuit",
}


@dataclass(frozen=True)
class Seed:
    """A shipped input file and how it is run."""

    kind: str
    path: Path
    #: a change applied to the parsed seed before mutation (e.g. a short scenario horizon for the CI subset)
    prepare: Callable[[Any], Any] | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.path.relative_to(PACKAGE).as_posix()}"

    def data(self) -> Any:
        parsed = yaml.safe_load(self.path.read_text("utf-8"))
        return self.prepare(copy.deepcopy(parsed)) if self.prepare else parsed


@dataclass
class Mutant:
    seed: Seed
    mutation: str
    content: bytes
    suffix: str = ".yaml"


@dataclass
class Outcome:
    mutant: str
    seed: str
    mutation: str
    outcome: str
    detail: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def seeds(kinds: tuple[str, ...] = KINDS) -> list[Seed]:
    """Every shipped input file of the given kinds, in name order."""
    out: list[Seed] = []
    if "cascade" in kinds:
        out += [Seed("cascade", p) for p in sorted(EXAMPLES.rglob("*.yaml"))]
    if "flowsheet" in kinds:
        out += [Seed("flowsheet", p) for p in sorted(FLOWSHEETS.glob("*.yaml"))]
    if "feed" in kinds:
        out += [Seed("feed", p) for p in sorted(FEEDS.glob("*.yaml"))]
    if "scenario" in kinds:
        out += [Seed("scenario", p) for p in sorted(SCENARIOS.glob("*.yaml"))]
    if "data" in kinds:
        out += [Seed("data", p) for p in sorted((DATA / "values").glob("*.yaml"))]
        out += [Seed("data", p) for p in sorted((DATA / "sources").glob("*.yaml"))]
    return out


# ---------------------------------------------------------------------------------------------- mutations

NASTY_VALUES: tuple[tuple[str, Any], ...] = (
    ("nan", math.nan),
    ("inf", math.inf),
    ("-inf", -math.inf),
    ("1e300", 1e300),
    ("1e-300", 1e-300),
    ("-1e300", -1e300),
    ("2^63", 2**63),
    ("-1", -1),
    ("-1000", -1000.0),
    ("zero", 0),
    ("true", True),
    ("text", "not a number"),
    ("null", None),
    ("empty-list", []),
    ("empty-map", {}),
    ("nan-quantity", "nan t/yr"),
    ("negative-quantity", "-3000 t/yr"),
    ("huge-quantity", "1e300 t/yr"),
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every node below the root."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield (*prefix, k), v
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield (*prefix, i), v
            yield from _paths(v, (*prefix, i))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


def _delete(data: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(data)
    node = out
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]
    return out


def _rename_key(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for p in path[:-1]:
        node = node[p]
    node[new] = node.pop(path[-1])
    return out


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100000).encode("utf-8")


ELEMENT_SYMBOLS = {
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Y",
    "Sc",
}


def tree_mutants(seed: Seed, rng: random.Random, n: int) -> list[Mutant]:
    """`n` structural mutants: deleted keys, nasty values, unknown elements and references, negatives."""
    data = seed.data()
    nodes = list(_paths(data))
    if not nodes:
        return []
    scalars = [(p, v) for p, v in nodes if not isinstance(v, dict | list)]
    numbers = [(p, v) for p, v in scalars if isinstance(v, int | float) and not isinstance(v, bool)]
    keyed = [(p, v) for p, v in nodes if isinstance(p[-1], str)]
    elements = [(p, v) for p, v in nodes if isinstance(p[-1], str) and p[-1] in ELEMENT_SYMBOLS]
    element_values = [(p, v) for p, v in scalars if isinstance(v, str) and v in ELEMENT_SYMBOLS]
    refs = [(p, v) for p, v in scalars if p[-1] == "ref" or p[-1] == "source"]
    out: list[Mutant] = []
    makers: list[Callable[[], tuple[str, Any] | None]] = []

    def deleted() -> tuple[str, Any] | None:
        p, _ = rng.choice(keyed)
        return f"delete {_show(p)}", _delete(data, p)

    def nasty() -> tuple[str, Any] | None:
        p, _ = rng.choice(numbers or scalars)
        label, value = rng.choice(NASTY_VALUES)
        return f"{_show(p)} = {label}", _set(data, p, value)

    def wrong_type() -> tuple[str, Any] | None:
        p, _ = rng.choice(nodes)
        label, value = rng.choice(NASTY_VALUES[9:])
        return f"{_show(p)} = {label} (type)", _set(data, p, value)

    def negated() -> tuple[str, Any] | None:
        if not numbers:
            return None
        p, v = rng.choice(numbers)
        return f"{_show(p)} negated", _set(data, p, -v if v else -1)

    def unknown_element() -> tuple[str, Any] | None:
        if elements and rng.random() < 0.5:
            p, _ = rng.choice(elements)
            return f"{_show(p)} key -> Xx", _rename_key(data, p, "Xx")
        if element_values:
            p, _ = rng.choice(element_values)
            return f"{_show(p)} = Xx", _set(data, p, "Xx")
        return None

    def unknown_ref() -> tuple[str, Any] | None:
        if not refs:
            return None
        p, _ = rng.choice(refs)
        return f"{_show(p)} = no.such.key", _set(data, p, "no.such.key.fuzz")

    makers = [deleted, nasty, nasty, wrong_type, negated, unknown_element, unknown_ref]
    tries = 0
    while len(out) < n and tries < 20 * n:
        tries += 1
        made = rng.choice(makers)()
        if made is None:
            continue
        label, mutated = made
        out.append(Mutant(seed, label, _dump(mutated)))
    return out


def _show(path: tuple[Any, ...]) -> str:
    text = ""
    for p in path:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text


def byte_mutants(seed: Seed, rng: random.Random, *, large: bool) -> list[Mutant]:
    """Whole-file mutants: empty, binary, UTF-16, non-UTF-8, truncated, duplicated key, deep nesting, an alias
    bomb, a file past the size limit (and, when `large`, a 50 MB list under a known field)."""
    original = _dump(seed.data())
    text = original.decode("utf-8")
    first_line = text.splitlines()[0] if text.strip() else "name: x"
    data = seed.data()
    key = next(iter(data)) if isinstance(data, dict) and data else "name"
    third = len(original) // 3
    as_json = json.dumps(data, default=str)
    deep_block = "".join(f"{' ' * i}k{i}:\n" for i in range(200))
    out = [
        Mutant(seed, "empty file", b""),
        Mutant(seed, "binary", bytes(rng.getrandbits(8) for _ in range(2048))),
        Mutant(seed, "UTF-16 with BOM", text.encode("utf-16")),
        Mutant(seed, "UTF-16-LE without BOM", text.encode("utf-16-le")),
        Mutant(seed, "UTF-8 with BOM", b"\xef\xbb\xbf" + original),
        Mutant(seed, "latin-1 byte", original[:third] + b"\xe9" + original[third:]),
        Mutant(seed, "truncated at half", original[: len(original) // 2]),
        Mutant(seed, "duplicated first key", (first_line + "\n" + text).encode("utf-8")),
        Mutant(seed, "deep nesting 5000", (f"{key}: " + "[" * 5000 + "]" * 5000 + "\n").encode()),
        Mutant(seed, "deep block nesting", (text + deep_block).encode()),
        Mutant(seed, "alias bomb", _alias_bomb(key)),
        Mutant(seed, "JSON with NaN", as_json.replace("0.", "NaN", 1).encode(), ".json"),
    ]
    size = 11 * 1024 * 1024 if not large else 50 * 1024 * 1024
    filler = (f"{key}_fuzz_list: [" + "1.5, " * (size // 5) + "1.5]\n").encode()
    out.append(Mutant(seed, f"file of {size // 2**20} MB", original + filler))
    if large:
        medium = (f"{key}: [" + "1.5, " * (9 * 1024 * 1024 // 5) + "1.5]\n").encode()
        out.append(Mutant(seed, "9 MB list under a known field", medium))
    return out


def _alias_bomb(key: str) -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"{key}: *a9")
    return ("\n".join(lines) + "\n").encode()


def mutants(
    seed: Seed, master_seed: int, n_tree: int, *, large: bool = False, raw: bool = True
) -> list[Mutant]:
    """The mutants of one seed file: deterministic for a given `master_seed`."""
    rng = random.Random(f"{master_seed}:{seed.name}")
    out = tree_mutants(seed, rng, n_tree)
    if raw:
        out += byte_mutants(seed, rng, large=large)
    return out


# ---------------------------------------------------------------------------------------------- running


def _cascade_command(seed_data: Any) -> str:
    if isinstance(seed_data, dict) and "dynamics" in seed_data:
        return "dynamics"
    feed = seed_data.get("feed") if isinstance(seed_data, dict) else None
    if isinstance(feed, dict) and "stage" not in feed and "targets" in seed_data:
        return "design"
    return "simulate"


def _finite_tree(value: Any, where: str = "") -> str | None:
    """The first non-finite number in a JSON-like tree, as its path."""
    stack = [(where, value)]
    while stack:
        w, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return w
        if isinstance(v, dict):
            stack.extend((f"{w}.{k}", x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((f"{w}[{i}]", x) for i, x in enumerate(v))
    return None


def _numbers(value: Any) -> list[float]:
    """Every number in a value (a number, or lists of them, e.g. a dynamic run's outlet over time)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    return []


def check_cascade(payload: dict[str, Any]) -> list[str]:
    """Sanity of a cascade result: converged, balanced, non-negative flows, purities/recoveries in [0, 1]."""
    problems = []
    result = payload.get("verified", payload)
    bad = _finite_tree(payload)
    if bad:
        problems.append(f"non-finite number at {bad}")
    if "mass_balance_error" in result and not result["mass_balance_error"] <= 1e-6:
        problems.append(f"mass balance error {result['mass_balance_error']}")
    for name, outlet in result.get("outlets", {}).items():
        for comp, flow in outlet.get("flow", {}).items():
            if any(f < -1e-9 for f in _numbers(flow)):
                problems.append(f"negative flow {name}.{comp}")
        for comp, purity in outlet.get("purity", {}).items():
            if any(not -1e-9 <= p <= 1 + 1e-9 for p in _numbers(purity)):
                problems.append(f"purity {name}.{comp} outside [0, 1]")
    for comp, by_outlet in result.get("recovery", {}).items():
        shares = [r for v in by_outlet.values() for r in _numbers(v)]
        if any(not -1e-9 <= r <= 1 + 1e-9 for r in shares):
            problems.append(f"recovery of {comp} outside [0, 1]: {by_outlet}")
    return problems


def check_refinery(payload: dict[str, Any]) -> list[str]:
    """Sanity of a refinery run: balanced, non-negative products/reagents/residues, purities in [0, 1]."""
    problems = []
    bad = _finite_tree(payload)
    if bad:
        problems.append(f"non-finite number at {bad}")
    if not payload.get("mass_balance_error", 0.0) <= 1e-6:
        problems.append(f"mass balance error {payload['mass_balance_error']}")
    for name, product in payload.get("products", {}).items():
        if product.get("t_per_yr", 0) < 0:
            problems.append(f"negative product {name}")
        if not 0 <= product.get("purity", 0) <= 1 + 1e-9:
            problems.append(f"purity of {name} = {product.get('purity')}")
    for name, amount in payload.get("reagents", {}).items():
        if amount < 0:
            problems.append(f"negative reagent {name} = {amount}")
    for name, residue in payload.get("residues", {}).items():
        if residue.get("t_per_yr", 0) < 0:
            problems.append(f"negative residue {name}")
    for comp, r in payload.get("recovery", {}).items():
        if not -1e-9 <= r <= 1 + 1e-9:
            problems.append(f"recovery of {comp} = {r}")
    return problems


def check_chain(tables: dict[str, Any]) -> list[str]:
    """Sanity of a scenario run: finite, non-negative flows (t) and stocks (t)."""
    problems = []
    for name, column in (("flows", "t"), ("stocks", "t")):
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        values = frame[column].to_numpy(dtype=float)
        if not all(math.isfinite(v) for v in values):
            problems.append(f"non-finite {name}")
        scale = max(1.0, float(abs(values).max()) if len(values) else 1.0)
        if (values < -1e-6 * scale).any():
            problems.append(f"negative {name}: {float(values.min()):.4g} t")
    flows = tables.get("flows")
    if flows is not None and not flows.empty and (flows["value_usd"].to_numpy(dtype=float) < -1e-6).any():
        problems.append("negative-value flows")
    return problems


def _child(mutant: Mutant, workdir: Path, out_path: Path) -> int:
    """Run one mutant (in the forked child); returns the exit code, writes a JSON report to `out_path`."""
    seed = mutant.seed
    report: dict[str, Any] = {}
    if seed.kind == "data":
        root = workdir / "data"
        for folder in ("values", "sources", "observations", "claims"):
            if (DATA / folder).is_dir():
                shutil.copytree(DATA / folder, root / folder)
        target = root / seed.path.parent.name / seed.path.name
    else:
        target = workdir / f"mutant{mutant.suffix}"
    target.write_bytes(mutant.content)
    report["file"] = str(target)
    report["workdir"] = str(workdir)
    code = 0
    try:
        if seed.kind in ("cascade", "flowsheet", "feed"):
            from mine2magnet.cli import main

            if seed.kind == "cascade":
                args = ["cascade", _cascade_command(seed.data()), str(target), "--json"]
            elif seed.kind == "flowsheet":
                args = ["refinery", "run", str(target), "--json"]
            else:
                args = ["refinery", "run", FEED_FLOWSHEET[seed.path.stem], "--feed", str(target), "--json"]
            buffer = io.StringIO()
            real_stdout = sys.stdout
            sys.stdout = buffer
            try:
                main.main(args=args, prog_name="mine2magnet", standalone_mode=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            finally:
                sys.stdout = real_stdout
            if code == 0:
                payload = json.loads(buffer.getvalue())
                problems = check_cascade(payload) if seed.kind == "cascade" else check_refinery(payload)
                report["problems"] = problems
                code = 3 if problems else 0
        elif seed.kind == "scenario":
            from mine2magnet.errors import Mine2MagnetError
            from mine2magnet.scenario import load_scenario, run_scenario

            try:
                if seed.path.name == "overrides.yaml":
                    from mine2magnet.data.reader import read_mapping
                    from mine2magnet.scenario.loader import validate
                    from mine2magnet.scenario.schema import OverridesFile

                    validate(OverridesFile, read_mapping(target), file=str(target))
                else:
                    result = run_scenario(load_scenario(str(target)))
                    problems = check_chain(result.tables)
                    report["problems"] = problems
                    code = 3 if problems else 0
            except Mine2MagnetError as exc:
                print(f"error: {exc}", file=sys.stderr)
                code = 1
        else:
            from mine2magnet.data.loader import read_dataset
            from mine2magnet.errors import Mine2MagnetError

            try:
                read_dataset(workdir / "data")
            except Mine2MagnetError as exc:
                print(f"error: {exc}", file=sys.stderr)
                code = 1
    except MemoryError:
        code = 71
    except BaseException:
        traceback.print_exc()
        code = 70
    out_path.write_text(json.dumps(report))
    return code


def run_mutant(mutant: Mutant, *, timeout: float = 60.0, memory_mb: int = 2048) -> Outcome:
    """Run one mutant in a forked child with a wall-time limit (s) and an extra address-space limit (MB)."""
    name = f"{mutant.seed.name} / {mutant.mutation}"
    with tempfile.TemporaryDirectory(prefix="m2m-fuzz-") as tmp:
        workdir = Path(tmp)
        out_path, err_path = workdir / "report.json", workdir / "stderr.txt"
        start = time.perf_counter()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(err, 2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                warnings.resetwarnings()  # as a user's run: pytest's "error" filter is not the CLI's
                warnings.simplefilter("default")
                used = _address_space_bytes()
                limit = used + memory_mb * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                code = _child(mutant, workdir, out_path)
            finally:
                try:
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        status = _wait(pid, timeout)
        seconds = time.perf_counter() - start
        stderr = err_path.read_text("utf-8", "replace") if err_path.exists() else ""
        report = json.loads(out_path.read_text()) if out_path.exists() else {}
    return _classify(name, mutant, status, stderr, report, seconds)


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def _wait(pid: int, timeout: float) -> int | None:
    """The child's wait status, or None (killed) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)


def _classify(
    name: str, mutant: Mutant, status: int | None, stderr: str, report: dict[str, Any], seconds: float
) -> Outcome:
    seed, mutation = mutant.seed.name, mutant.mutation
    if status is None:
        return Outcome(name, seed, mutation, "hang", f"past the time limit ({seconds:.0f} s)", seconds)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return Outcome(name, seed, mutation, "memory", f"killed by signal {sig}", seconds)
    code = os.WEXITSTATUS(status)
    lines = [line for line in stderr.splitlines() if line.strip()]
    warned = [line for line in lines if "Warning" in line and "error:" not in line]
    if code == 71 or "MemoryError" in stderr:
        return Outcome(name, seed, mutation, "memory", (lines or [""])[-1][:300], seconds)
    if code == 70 or "Traceback" in stderr:
        return Outcome(name, seed, mutation, "traceback", (lines or [""])[-1][:300], seconds)
    if code == 3:
        return Outcome(name, seed, mutation, "insane", "; ".join(report.get("problems", []))[:300], seconds)
    if warned:
        return Outcome(name, seed, mutation, "warning", warned[0][:300], seconds)
    if code == 0:
        return Outcome(name, seed, mutation, "accepted", "", seconds)
    message = lines[-1] if lines else ""
    file = Path(report.get("file", "/nonexistent"))
    # the mutated file, or another file of the mutant's folder (a data file citing a deleted source)
    file_named = report.get("workdir", "/nonexistent") in message or file.name in message
    one_line = len(lines) == 1
    kind = "refused" if one_line and file_named else "refused-unclear"
    return Outcome(name, seed, mutation, kind, message[:300], seconds)


def campaign(
    kinds: tuple[str, ...],
    master_seed: int,
    n_tree: int,
    *,
    large: bool = False,
    raw: bool = True,
    timeout: float = 60.0,
    memory_mb: int = 2048,
    seed_filter: Callable[[Seed], Seed | None] | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every mutant of every seed of `kinds`, run and classified (deterministic for a `master_seed`)."""
    _preload()
    results = []
    for seed in seeds(kinds):
        chosen = seed_filter(seed) if seed_filter else seed
        if chosen is None:
            continue
        for mutant in mutants(chosen, master_seed, n_tree, large=large, raw=raw):
            outcome = run_mutant(mutant, timeout=timeout, memory_mb=memory_mb)
            results.append(outcome)
            if progress:
                progress(outcome)
    return results


def _preload() -> None:
    """Import the heavy modules once in the parent, so that each forked child starts warm."""
    import mine2magnet.cli.cascade
    import mine2magnet.cli.refinery
    import mine2magnet.process.refinery
    import mine2magnet.scenario
    import mine2magnet.separation  # noqa: F401
    from mine2magnet.data import load_dataset

    load_dataset()


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return dict(sorted(counts.items()))
