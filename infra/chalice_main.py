"""`python -m infra.chalice_main ARGS`: the `chalice` command, deploying to the stage's runtime.

Chalice takes the Lambda runtime from the interpreter it runs under
(`Config.lambda_python_version`, `python{major}.{minor}`) and has no setting
for it. This runs Chalice's own command line with that one value set to the
runtime named in `WILDRYDES_LAMBDA_RUNTIME` (infra.runtimes checks it first),
so that `chalice package` writes it into the template and `chalice deploy`
sends it in CreateFunction: a deprecated runtime is never sent. Everything
else is Chalice as documented. The package is pure Python, so building it
under another interpreter than the one Lambda runs is safe.
"""

from __future__ import annotations

import os
import sys
import warnings

RUNTIME_VARIABLE = "WILDRYDES_LAMBDA_RUNTIME"


def main() -> int:
    runtime = os.environ.get(RUNTIME_VARIABLE)
    if not runtime:
        print(f"{RUNTIME_VARIABLE} is not set: which Lambda runtime?", file=sys.stderr)
        return 2
    from chalice.cli import main as chalice
    from chalice.config import Config

    Config.lambda_python_version = property(lambda self: runtime)  # type: ignore[assignment,method-assign]
    # Chalice then warns that the interpreter is not the runtime: chosen, not a mistake.
    warnings.filterwarnings("ignore", message="You are currently running")
    sys.argv = ["chalice", *sys.argv[1:]]
    result: int = chalice()
    return result


if __name__ == "__main__":
    sys.exit(main())
