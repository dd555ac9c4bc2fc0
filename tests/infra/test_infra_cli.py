"""`python -m infra`: what a user sees on stdout, stderr and in the exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.cli import main
from infra.template import merge_template


def test_template_writes_the_merge_template_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--stage", "dev"]) == 0
    assert json.loads(capsys.readouterr().out) == merge_template("dev")


def test_template_writes_a_file_and_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "merge.json"

    assert main(["template", "--stage", "prod", "-o", str(target)]) == 0

    assert json.loads(target.read_text()) == merge_template("prod")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"wrote {target}\n"


def test_an_unknown_stage_is_one_line_on_stderr_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["template", "--stage", "qa"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: unknown stage 'qa'")
    assert captured.err.count("\n") == 1


def test_a_stage_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["deploy"])
    assert exited.value.code == 2
    assert "--stage" in capsys.readouterr().err
