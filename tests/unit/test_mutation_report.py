"""`make mutate`'s report: mutmut's verdicts counted per module, and the modules it covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mutation import ModuleResult, listed_modules, parse_args, read_results, table

# What the project promises to hold to the mutation target (docs/DEVELOPMENT.md).
UNICORNS = {"records", "windows", "summaries", "vitals", "alerts", "params"}
TAXI = {"records", "windows", "summaries", "fares", "params"}
CORE = {f"unicorns.{m}" for m in UNICORNS} | {f"taxi.{m}" for m in TAXI}
CORE |= {"pipeline.incidents", "pipeline.statecache", "pipeline.timestamps", "params"}
ENVELOPES = {"pipeline.aggregator", "pipeline.persister"}
# The incidents' conditional writes: part of `incidents` until it moved to the adapters.
ADAPTERS = {"adapters.versioned"}


def test_every_core_module_and_envelope_is_mutated() -> None:
    assert set(listed_modules()) == CORE | ENVELOPES | ADAPTERS


def write_meta(mutants: Path, module: str, exit_codes: dict[str, int | None]) -> None:
    package, name = module.split(".")
    folder = mutants / "chalicelib" / package
    folder.mkdir(parents=True, exist_ok=True)
    verdicts = {f"chalicelib.{module}.x_f__mutmut_{n}": c for n, c in exit_codes.items()}
    (folder / f"{name}.py.meta").write_text(json.dumps({"exit_code_by_key": verdicts}))


def test_verdicts_are_counted_as_killed_by_tests_or_mypy_timed_out_survived_or_unrun(
    tmp_path: Path,
) -> None:
    # mutmut's exit codes: 1 a test failed, 37 mypy refused it, 36 timed out, 0 every test
    # passed, 33 no test reaches it, 34 skipped, None not run yet.
    codes = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 37, "8": 36, "9": 0}
    codes |= {"10": 33, "11": 34, "12": None}
    write_meta(tmp_path, "taxi.fares", codes)

    result = read_results("taxi.fares", tmp_path)

    assert (result.mutants, result.killed, result.mypy, result.timed_out) == (11, 6, 1, 1)
    assert (result.survived, result.unrun) == (2, 1)
    assert result.survivors == [
        "chalicelib.taxi.fares.x_f__mutmut_10",
        "chalicelib.taxi.fares.x_f__mutmut_9",
    ]
    assert result.score == 8 / 11
    assert not result.meets(0.7)  # one left unrun


def test_the_table_has_a_row_per_module_and_their_sum(tmp_path: Path) -> None:
    write_meta(tmp_path, "taxi.records", {str(n): 1 for n in range(19)} | {"19": 0})
    write_meta(tmp_path, "unicorns.params", {"1": 1, "2": 37})
    results = [read_results("taxi.records", tmp_path), read_results("unicorns.params", tmp_path)]

    lines = table(results, 0.96).splitlines()

    assert lines[0].split() == [
        "module", "mutants", "killed", "mypy", "timed", "out", "survived", "unrun", "score"
    ]  # fmt: skip
    assert lines[2].split() == [
        "taxi.records",
        "20",
        "19",
        "0",
        "0",
        "1",
        "0",
        "95.0",
        "%",
        "<",
        "target",
    ]
    assert lines[3].split() == ["unicorns.params", "2", "1", "1", "0", "0", "0", "100.0", "%"]
    assert lines[5].split() == ["all", "22", "20", "1", "0", "1", "0", "95.5", "%"]


def test_a_module_mutmut_has_not_run_has_no_score_and_misses_the_target(tmp_path: Path) -> None:
    result = read_results("fares", tmp_path)
    assert result == ModuleResult("fares")
    assert result.score is None and not result.meets(0.95)


def test_a_module_is_named_in_full_or_by_its_last_part_when_that_is_unique(
    capsys: pytest.CaptureFixture[str],
) -> None:
    modules = listed_modules()
    assert parse_args(["--module", "fares,pipeline.incidents"], modules).modules == [
        "taxi.fares",
        "pipeline.incidents",
    ]
    assert parse_args([], modules).modules == list(modules)
    with pytest.raises(SystemExit):
        parse_args(["--module", "records"], modules)
    assert "say which: records (unicorns.records or taxi.records)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--module", "nope"], modules)
    assert "not a module mutmut mutates: nope" in capsys.readouterr().err
