"""The layout keeps what it says: the Lambda package stands alone, data sets and the core apart.

`chalicelib/` is what Lambda runs, so it may not import the local runtime,
infra, the producer or the bench; the two data sets share `pipeline/` and
`adapters/` but not each other; the shared envelopes know no data set; and
the pure core loads no AWS SDK, which keeps it cheap to import and testable
without one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from infra.stages import PROJECT_DIR

CHALICELIB = PROJECT_DIR / "chalicelib"
OUTSIDE_THE_PACKAGE = ("local", "infra", "producer", "bench", "tests", "app")
# The pure core: values in, values out.
PURE = (
    "chalicelib.unicorns.records",
    "chalicelib.unicorns.windows",
    "chalicelib.unicorns.summaries",
    "chalicelib.unicorns.vitals",
    "chalicelib.unicorns.alerts",
    "chalicelib.unicorns.params",
    "chalicelib.taxi.records",
    "chalicelib.taxi.windows",
    "chalicelib.taxi.summaries",
    "chalicelib.taxi.fares",
    "chalicelib.taxi.params",
    "chalicelib.pipeline.windows",
    "chalicelib.params",
)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at its top level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_of(path: Path) -> str:
    return path.relative_to(CHALICELIB).parts[0] if path.parent != CHALICELIB else ""


def test_the_lambda_package_imports_nothing_from_outside_it() -> None:
    wrong = [
        f"{path.relative_to(PROJECT_DIR)}: {name}"
        for path in sorted(CHALICELIB.rglob("*.py"))
        for name in sorted(imports_of(path))
        if name.split(".")[0] in OUTSIDE_THE_PACKAGE
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("unicorns", ("chalicelib.taxi",)),
        ("taxi", ("chalicelib.unicorns",)),
        ("pipeline", ("chalicelib.unicorns", "chalicelib.taxi", "chalicelib.adapters")),
        ("adapters", ("chalicelib.unicorns", "chalicelib.taxi")),
    ],
)
def test_each_package_keeps_to_its_side(package: str, forbidden: tuple[str, ...]) -> None:
    wrong = [
        f"{path.relative_to(PROJECT_DIR)}: {name}"
        for path in sorted((CHALICELIB / package).rglob("*.py"))
        for name in sorted(imports_of(path))
        if name.startswith(forbidden)
    ]
    assert wrong == []


def test_the_pure_core_loads_no_aws_sdk() -> None:
    probe = (
        "import importlib, sys\n"
        f"for name in {PURE!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore'}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('chalicelib.adapters')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["[]", "[]"]
