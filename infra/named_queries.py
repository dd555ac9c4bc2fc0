"""The ad-hoc questions over the archive, as SQL files in `infra/queries/<table>/`.

One folder per archived data set, named after its Glue table (`wildrydes/`:
the workshop's four questions over the raw unicorn stream; `taxi_trips/`: the
taxi trips'); one file per question, `q<n>_<name>.sql`, plain SQL over that
table that both Athena (Trino) and DuckDB run; `?` marks a value the user
supplies. The numbers run on across folders (q1-q4 are the workshop's, the
taxi ones q5 on), so every question has one number and one name: a new data
set's questions go in a folder named after its table, numbered after the last.
The files are the source: the template makes an Athena named query of each,
the local runtime runs the same text. A file's leading `--` comment says what
it answers and becomes the named query's description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from chalice.utils import to_cfn_resource_name

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
FILE_NAME = re.compile(r"q([1-9][0-9]*)_([a-z0-9_]+)")


@dataclass(frozen=True)
class NamedQuery:
    """One question: `<table>/q<n>_<name>.sql`, its text and its leading comment."""

    name: str  # e.g. "trip_positions"
    number: int  # the n of q<n>, e.g. 1
    table: str  # the Glue table it reads, e.g. "wildrydes"
    description: str
    sql: str  # the whole file, comment included
    parameters: int  # how many `?` the user supplies

    @property
    def logical_id(self) -> str:
        return to_cfn_resource_name(self.name) + "Query"


def named_queries(
    table: str | None = None, directory: Path = QUERIES_DIR
) -> tuple[NamedQuery, ...]:
    """Every question in number order, or only those over `table`.

    Raises ValueError on a file not named `q<n>_<name>.sql` or a number or
    name used twice: either would make two questions answer to one name.
    """
    found = sorted((_read(path) for path in directory.glob("*/*.sql")), key=lambda q: q.number)
    for attribute in ("number", "name"):
        values = [getattr(q, attribute) for q in found]
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"named queries in {directory}: {attribute} used twice: {twice}")
    return tuple(q for q in found if table is None or q.table == table)


def _read(path: Path) -> NamedQuery:
    match = FILE_NAME.fullmatch(path.stem)
    if match is None:
        raise ValueError(f"{path}: a named query's file is called q<n>_<name>.sql")
    sql = path.read_text()
    comment = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        comment.append(line.removeprefix("--").strip())
    return NamedQuery(
        name=match.group(2),
        number=int(match.group(1)),
        table=path.parent.name,
        description=" ".join(comment),
        sql=sql,
        parameters=sql.count("?"),
    )
