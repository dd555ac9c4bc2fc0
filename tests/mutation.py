"""`make mutate`: how much of the core's behaviour the tests would notice breaking.

mutmut (pinned in requirements-dev.txt, set up under ``[tool.mutmut]`` in
pyproject.toml) copies the project into ``mutants/``, makes one small change at
a time to the modules listed there (a ``<`` for a ``<=``, a ``break`` for a
``continue``, a string or number altered, a call dropped) and runs, for each
change, only the unit and functional tests that reach the changed function.
A change that some test fails on is *killed*; one that every test passes is a
*survivor*: a behaviour nothing checks. mypy --strict refusing a change counts
as killed too, since `make lint` would refuse it.

This wraps ``mutmut run`` for one module or all of them, then reads mutmut's
results back into a table per module and ``build/mutation.json``. It exits 1
when a module kills less than the target share of its mutants or leaves any
unrun. A mutant that cannot be told from the original by any caller (an
equivalent one) is not generated: its line carries mutmut's
``# pragma: no mutate`` with the reason beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
MUTANTS_DIR = PROJECT_DIR / "mutants"
REPORT = PROJECT_DIR / "build" / "mutation.json"
TARGET = 0.95

# mutmut's verdicts (its exit code per mutant, mutmut.stats) in this table's words.
DETECTED = {"killed": "killed", "caught by type check": "mypy", "timeout": "timed out"}
MISSED = {"survived": "survived", "no tests": "no tests", "suspicious": "suspicious"}


def listed_modules(pyproject: Path = PROJECT_DIR / "pyproject.toml") -> tuple[str, ...]:
    """The modules mutmut mutates (``only_mutate`` under ``[tool.mutmut]``), named within
    chalicelib: ``unicorns.records`` for ``chalicelib/unicorns/records.py``."""
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return tuple(
        ".".join(Path(path).relative_to("chalicelib").with_suffix("").parts)
        for path in config["only_mutate"]
    )


@dataclass
class ModuleResult:
    module: str
    mutants: int = 0
    killed: int = 0
    mypy: int = 0
    timed_out: int = 0
    survived: int = 0
    unrun: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def detected(self) -> int:
        return self.killed + self.mypy + self.timed_out

    @property
    def score(self) -> float | None:
        return self.detected / self.mutants if self.mutants else None

    def meets(self, target: float) -> bool:
        return self.unrun == 0 and self.score is not None and self.score >= target


def status_of(exit_code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return str(status_by_exit_code[exit_code])


def read_results(module: str, mutants_dir: Path = MUTANTS_DIR) -> ModuleResult:
    """One module's verdicts, from the ``.meta`` file mutmut writes beside its copy."""
    result = ModuleResult(module)
    meta = mutants_dir / "chalicelib" / f"{module.replace('.', '/')}.py.meta"
    if not meta.exists():
        return result
    verdicts = json.loads(meta.read_text())["exit_code_by_key"]
    counts: Counter[str] = Counter()
    for name, exit_code in sorted(verdicts.items()):
        status = status_of(exit_code)
        if status == "skipped":
            continue
        counts[status] += 1
        if status in MISSED:
            result.survivors.append(name)
    result.mutants = sum(counts.values())
    result.killed = counts["killed"]
    result.mypy = counts["caught by type check"]
    result.timed_out = counts["timeout"]
    result.survived = sum(counts[status] for status in MISSED)
    result.unrun = result.mutants - result.detected - result.survived
    return result


def combined(results: Sequence[ModuleResult]) -> ModuleResult:
    counts = ("mutants", "killed", "mypy", "timed_out", "survived", "unrun")
    return ModuleResult("all", **{name: sum(getattr(r, name) for r in results) for name in counts})


def percent(score: float | None) -> str:
    return "-" if score is None else f"{100 * score:.1f} %"


HEADER = ("module", "mutants", "killed", "mypy", "timed out", "survived", "unrun", "score")


def cells(r: ModuleResult, target: float | None = None) -> list[str]:
    counts = (r.mutants, r.killed, r.mypy, r.timed_out, r.survived, r.unrun)
    mark = "" if target is None or r.meets(target) else "  < target"
    return [r.module, *(str(n) for n in counts), percent(r.score) + mark]


def table(results: Sequence[ModuleResult], target: float) -> str:
    rows = [list(HEADER), *(cells(r, target) for r in results), cells(combined(results))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    rule = "  ".join("-" * w for w in widths)
    lines = []
    for n, row in enumerate(rows):
        padded = [row[0].ljust(widths[0])]
        padded += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(padded).rstrip())
        if n in (0, len(rows) - 2):
            lines.append(rule)
    return "\n".join(lines)


def run_mutmut(modules: Sequence[str], children: int) -> int:
    """``mutmut run`` for the mutants of these modules; its exit code."""
    env = dict(os.environ)
    # mypy (the type check mutmut runs) must be the project's, whatever the shell's PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # A fresh copy each time: mutmut retests a function when its code changes but
    # not when the tests do, so a kept copy would judge new tests by old results.
    shutil.rmtree(MUTANTS_DIR, ignore_errors=True)
    globs = [f"chalicelib.{module}.*" for module in modules]
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *globs]
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, check=False).returncode


def resolve(name: str, modules: Sequence[str]) -> list[str]:
    """The listed modules `name` means: itself, or those it ends (`fares` is `taxi.fares`)."""
    if name in modules:
        return [name]
    return [m for m in modules if m.endswith("." + name)]


def parse_args(argv: Sequence[str] | None, modules: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make mutate", description="Mutation testing of the core (mutmut)."
    )
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        help=f"a module to mutate (repeat, or separate with commas); all of: {', '.join(modules)}",
    )
    parser.add_argument(
        "--children",
        type=int,
        default=os.cpu_count() or 1,
        help="mutants tested at once (default: one per core)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="read the last run's results; run nothing"
    )
    parser.add_argument("--target", type=float, default=100 * TARGET, help="percent; default 95")
    args = parser.parse_args(argv)
    chosen = [name.strip() for value in args.module for name in value.split(",") if name.strip()]
    resolved = [resolve(name, modules) for name in chosen]
    unknown = [name for name, found in zip(chosen, resolved, strict=True) if not found]
    if unknown:
        parser.error(
            f"not a module mutmut mutates: {', '.join(unknown)} (one of: {', '.join(modules)})"
        )
    ambiguous = [
        f"{name} ({' or '.join(found)})"
        for name, found in zip(chosen, resolved, strict=True)
        if len(found) > 1
    ]
    if ambiguous:
        parser.error(f"say which: {', '.join(ambiguous)}")
    args.modules = [found[0] for found in resolved] or list(modules)
    if args.children < 1:
        parser.error("--children must be 1 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    modules = listed_modules()
    args = parse_args(argv, modules)
    target = args.target / 100
    started = time.monotonic()
    if not args.report_only:
        print(f"mutate: {', '.join(args.modules)} ({args.children} at once)", flush=True)
        code = run_mutmut(args.modules, args.children)
        if code != 0:
            print(f"mutate: mutmut stopped with exit code {code}", file=sys.stderr)
            return code
    minutes = (time.monotonic() - started) / 60
    results = [read_results(module) for module in args.modules]
    print()
    print(table(results, target))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "tool": f"mutmut {version('mutmut')}",
        "target": target,
        "minutes": None if args.report_only else round(minutes, 1),
        "modules": {r.module: asdict(r) | {"score": r.score} for r in results},
    }
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    survivors = [name for r in results for name in r.survivors]
    if survivors:
        print(f"\n{len(survivors)} survivors (see one: .venv/bin/mutmut show NAME):")
        for name in survivors:
            print(f"  {name}")
    took = "" if args.report_only else f" ({minutes:.0f} min)"
    print(f"\nwritten: {REPORT.relative_to(PROJECT_DIR)}{took}")
    short = [r.module for r in results if not r.meets(target)]
    if short:
        print(f"mutate: below {args.target:g} % or not all run: {', '.join(short)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
