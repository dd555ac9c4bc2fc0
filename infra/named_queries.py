"""The workshop's ad-hoc questions, as SQL files in `infra/queries/`.

One file per question, plain SQL over table `wildrydes` that both Athena
(Trino) and DuckDB run; `?` marks a value the user supplies. The files are the
source: the template makes an Athena named query of each, the local runtime
runs the same text. A file's leading `--` comment says what it answers and
becomes the named query's description.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chalice.utils import to_cfn_resource_name

QUERIES_DIR = Path(__file__).resolve().parent / "queries"


@dataclass(frozen=True)
class NamedQuery:
    """One question: `q<n>_<name>.sql`, its text and its leading comment."""

    name: str  # e.g. "trip_positions"
    description: str
    sql: str  # the whole file, comment included
    parameters: int  # how many `?` the user supplies

    @property
    def logical_id(self) -> str:
        return to_cfn_resource_name(self.name) + "Query"


def named_queries(directory: Path = QUERIES_DIR) -> tuple[NamedQuery, ...]:
    """The questions in file-name order (`q1_...` first)."""
    return tuple(_read(path) for path in sorted(directory.glob("*.sql")))


def _read(path: Path) -> NamedQuery:
    sql = path.read_text()
    comment = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        comment.append(line.removeprefix("--").strip())
    _, _, name = path.stem.partition("_")
    return NamedQuery(
        name=name or path.stem,
        description=" ".join(comment),
        sql=sql,
        parameters=sql.count("?"),
    )
