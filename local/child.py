"""Starting the local stack's child processes safely, and the launcher they start through.

`spawn` runs `python -m local.child <command>`: the launcher restores default
Ctrl-C handling (a shell starts background jobs with SIGINT ignored, and
children inherit that), asks the kernel to send it SIGTERM when the stack's
process dies, and then becomes the command with exec, keeping both. Doing
this in a launcher rather than in Popen's `preexec_fn` matters because the
stack starts children while its runtime thread runs, and `preexec_fn` is not
safe in a process with threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
PARENT_VARIABLE = "WILDRYDES_LOCAL_PARENT"


def spawn(
    command: Sequence[str], *, log: Path, env: Mapping[str, str], **popen: Any
) -> subprocess.Popen[bytes]:
    """Start `command` in its own session, output to `log`, tied to this process."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "local.child", *command],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**env, PARENT_VARIABLE: str(os.getpid())},
            # Its own session: Ctrl-C reaches only the stack, which stops it in order.
            start_new_session=True,
            **popen,
        )


def stop_process(
    process: subprocess.Popen[Any] | None,
    how: signal.Signals = signal.SIGTERM,
    timeout: float = 10.0,
) -> None:
    """Ask `process` to stop with `how`, and kill it if it has not within `timeout` s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv: Sequence[str]) -> None:
    """Become `argv` with default SIGINT and a SIGTERM if the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with contextlib.suppress(OSError):  # not Linux: the stack's own cleanup still applies
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(os.environ.pop(PARENT_VARIABLE, os.getppid())):
        sys.exit(1)  # the stack died before we could ask to follow it
    os.execvp(argv[0], list(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
