"""Where the local run keeps its files: outside the project, linked from `.wildrydes`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.stages import CONFIG_PATH
from local.endpoint import DEFAULT_PORT, HOST, client_environment
from local.state import LINK_NAME, StateError, link_state, shown, state_dir


def test_the_state_is_a_folder_of_the_project_under_xdg_state_home(tmp_path: Path) -> None:
    project = tmp_path / "checkout"
    one = state_dir({"XDG_STATE_HOME": str(tmp_path / "xdg")}, project)
    assert one.parent == tmp_path / "xdg" / "wildrydes"
    assert one.name.startswith("checkout-")
    # Another clone of the same name has another folder; the same one the same.
    assert state_dir({"XDG_STATE_HOME": str(tmp_path / "xdg")}, tmp_path / "a" / "checkout") != one
    assert state_dir({"XDG_STATE_HOME": str(tmp_path / "xdg")}, project) == one


def test_without_xdg_state_home_it_is_under_the_home_folder(tmp_path: Path) -> None:
    assert state_dir({}, tmp_path).is_relative_to(Path.home() / ".local" / "state" / "wildrydes")


def test_wildrydes_state_dir_chooses_it_outright(tmp_path: Path) -> None:
    chosen = {"WILDRYDES_STATE_DIR": str(tmp_path / "here"), "XDG_STATE_HOME": "/elsewhere"}
    assert state_dir(chosen, tmp_path) == tmp_path / "here"


def test_the_project_links_to_it_and_paths_read_through_the_link(tmp_path: Path) -> None:
    project, state = tmp_path / "project", tmp_path / "state"
    project.mkdir()
    assert link_state(state, project) is None
    link = project / LINK_NAME
    assert link.is_symlink() and link.resolve() == state.resolve()
    (state / "mail").mkdir()
    assert shown(state / "mail" / "ops", project) == ".wildrydes/mail/ops"
    assert shown(tmp_path / "other", project) == str(tmp_path / "other")
    # Again, or to another folder: the link follows.
    assert link_state(state, project) is None
    assert link_state(tmp_path / "moved", project) is None
    assert link.resolve() == (tmp_path / "moved").resolve()


def test_an_earlier_runs_folder_becomes_the_state(tmp_path: Path) -> None:
    project, state = tmp_path / "project", tmp_path / "state"
    (project / LINK_NAME / "mail").mkdir(parents=True)
    (project / LINK_NAME / "mail" / "kept").write_text("an earlier email")
    assert link_state(state, project) is None
    assert (state / "mail" / "kept").read_text() == "an earlier email"
    assert (project / LINK_NAME).is_symlink()


def test_an_earlier_runs_folder_is_left_alone_when_the_state_exists(tmp_path: Path) -> None:
    project, state = tmp_path / "project", tmp_path / "state"
    (project / LINK_NAME).mkdir(parents=True)
    state.mkdir()
    note = link_state(state, project)
    assert note is not None and "remove" in note and str(state) in note
    assert not (project / LINK_NAME).is_symlink()


def test_the_local_stage_reaches_the_endpoint_make_up_starts() -> None:
    """`chalice local --stage local` needs no environment: the stage carries it."""
    config = json.loads(CONFIG_PATH.read_text())
    variables = config["stages"]["local"]["environment_variables"]
    expected = client_environment(f"http://{HOST}:{DEFAULT_PORT}")
    expected.pop("AWS_REGION")  # AWS_DEFAULT_REGION is the one boto3 reads
    assert variables == expected  # the account's own credentials, and no token of the shell's


def test_a_relative_xdg_state_home_is_ignored_as_xdg_says(tmp_path: Path) -> None:
    assert state_dir({"XDG_STATE_HOME": "state"}, tmp_path).is_relative_to(
        Path.home() / ".local" / "state" / "wildrydes"
    )


def test_a_state_inside_the_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with pytest.raises(StateError, match="cannot be inside the project"):
        link_state(project / ".wildrydes", project)
    with pytest.raises(StateError, match="WILDRYDES_STATE_DIR"):
        link_state(project / "elsewhere" / "state", project)
    assert not (project / ".wildrydes").exists()
