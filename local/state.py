"""Where the local run keeps its files: outside the project, so `chalice local` never sees them.

`chalice local` restarts whenever a file under the project changes, and the
running stack writes all the time (checkpoints, logs, the Maildir, the
archive copy, reports). Kept in the project, they restarted a user's
`chalice local` every second. So they live in a directory of their own per
project: `$WILDRYDES_STATE_DIR` if set, else
`$XDG_STATE_HOME/wildrydes/<project folder>-<hash of its path>` (XDG's state
home defaults to `~/.local/state`).

The project's `.wildrydes` is a symbolic link to it, so every path the docs
gives (`.wildrydes/env`, `.wildrydes/mail/...`) still works. Chalice's file
watcher, like `os.walk`, does not follow a link to a directory, so nothing
written through it restarts anything. An earlier run's `.wildrydes`
directory becomes the state directory, if there is none yet.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from infra.stages import PROJECT_DIR

STATE_VARIABLE = "WILDRYDES_STATE_DIR"
LINK_NAME = ".wildrydes"


class StateError(Exception):
    """The state directory chosen cannot be used; the message says why."""


def state_dir(environ: Mapping[str, str] | None = None, project: Path = PROJECT_DIR) -> Path:
    """The local run's directory for `project`: the variable's, or one under XDG's state home."""
    env = os.environ if environ is None else environ
    chosen = env.get(STATE_VARIABLE)
    if chosen:
        return Path(chosen).expanduser().resolve()
    xdg = env.get("XDG_STATE_HOME", "")
    # XDG: a relative path is to be ignored.
    home = Path(xdg) if Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    digest = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:8]
    return home.expanduser().resolve() / "wildrydes" / f"{project.name}-{digest}"


def link_state(state: Path, project: Path = PROJECT_DIR) -> str | None:
    """Make `state` and point `project/.wildrydes` at it; a note if that could not be done.

    An earlier run's `.wildrydes` directory is moved to `state` when `state` is new;
    otherwise it is left where it is, and the note says so.
    """
    link = project / LINK_NAME
    if state.resolve().is_relative_to(project.resolve()):
        raise StateError(
            f"the local run's state cannot be inside the project ({state}): `chalice local` "
            f"would restart at every write; choose a folder elsewhere with {STATE_VARIABLE}"
        )
    if link.is_dir() and not link.is_symlink():
        if state.exists():
            state.mkdir(parents=True, exist_ok=True)
            return (
                f"{link} holds an earlier run's files, and the state is now in {state}; "
                f"remove {link} to have it point there"
            )
        state.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(link, state)
    state.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        if link.resolve() == state.resolve():
            return None
        link.unlink()
    elif link.exists():
        return f"{link} is in the way (not a directory); the state is in {state}"
    link.symlink_to(state, target_is_directory=True)
    return None


def shown(path: Path, project: Path = PROJECT_DIR) -> str:
    """`path` as a user in the project's folder would type it: through `.wildrydes` when
    the link leads there, relative when it is below the current folder, else whole."""
    link = project / LINK_NAME
    if link.is_symlink():
        try:
            return str(LINK_NAME / path.resolve().relative_to(link.resolve()))
        except ValueError:
            pass
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
