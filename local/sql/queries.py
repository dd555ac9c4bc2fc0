"""The entry points: where queries read from, and running a query or a named one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any

from infra.named_queries import NamedQuery, named_queries
from local.sql.engines import ENGINES, AthenaEngine, DuckDbEngine, Engine
from local.sql.errors import Param, SqlError
from local.sql.mirror import sync_archive
from local.sql.results import QueryResult
from local.sql.tables import ArchiveTable
from local.state import state_dir


@dataclass
class Sources:
    """Where queries read from: the tables, the local cache and the clients to fill it.

    `tables` are those a query may name, all in one Glue database (e.g.
    `archive_tables(bucket)`); `table=t` is short for `tables=(t,)`. `s3`
    None means the DuckDB engine reads the cache as it is; `athena` is needed
    only by the Athena engine.
    """

    tables: tuple[ArchiveTable, ...] = ()
    cache_dir: Path = field(default_factory=lambda: state_dir() / "archive")
    s3: Any = None
    athena: Any = None
    sleep: Callable[[float], None] = time.sleep
    table: InitVar[ArchiveTable | None] = None
    _engines: dict[str, Engine] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self, table: ArchiveTable | None) -> None:
        self.tables = tuple(self.tables) if table is None else (table, *self.tables)
        if not self.tables:
            raise SqlError("no table to query")
        databases = sorted({t.database for t in self.tables})
        if len(databases) > 1:
            raise SqlError(f"the tables are in more than one database: {', '.join(databases)}")

    def engine(self, name: str) -> Engine:
        """The engine called `name`, made on first use and reused."""
        if name not in self._engines:
            if name == "duckdb":
                self._engines[name] = DuckDbEngine(self.tables, self.cache_dir)
            elif name == "athena":
                if self.athena is None:
                    raise SqlError("the athena engine needs an Athena client")
                self._engines[name] = AthenaEngine(
                    self.athena, database=self.tables[0].database, sleep=self.sleep
                )
            else:
                raise SqlError(f"unknown engine {name!r} (use {' or '.join(ENGINES)})")
        return self._engines[name]


def run_query(
    sql: str,
    params: Sequence[Param] = (),
    *,
    sources: Sources,
    engine: str = "duckdb",
    label: str = "query",
) -> QueryResult:
    """Rows of `sql` (Athena's dialect, `?` for each of `params`) on `engine`.

    On DuckDB every table's objects are synced from S3 first when `sources.s3`
    is set. Raises QueryError (one line, naming `label`) when the query fails.
    """
    runner = sources.engine(engine)
    if engine == "duckdb" and sources.s3 is not None:
        for table in sources.tables:
            sync_archive(sources.s3, table, sources.cache_dir)
    return runner.run(sql, params, label)


def find_named(name: str) -> NamedQuery:
    """The named query `name`: `points_after`, `q2` or the file stem `q2_points_after`."""
    queries = named_queries()
    for query in queries:
        if name in (query.name, f"q{query.number}", f"q{query.number}_{query.name}"):
            return query
    known = ", ".join(q.name for q in queries)
    raise SqlError(f"no named query {name!r} (known: {known})")


def run_named(
    name: str,
    params: Sequence[Param] = (),
    *,
    sources: Sources,
    engine: str = "duckdb",
) -> QueryResult:
    """Rows of one of the named queries (`infra/queries/`), run unchanged."""
    query = find_named(name)
    if query.table not in {t.name for t in sources.tables}:
        known = ", ".join(t.name for t in sources.tables)
        raise SqlError(f"{query.name} reads table {query.table}, not among the sources' ({known})")
    if len(params) != query.parameters:
        raise SqlError(
            f"{query.name} takes {describe_parameters(query.parameters)}, got {len(params)}: "
            f"{query.description}"
        )
    return run_query(query.sql, params, sources=sources, engine=engine, label=query.name)


def describe_parameters(count: int) -> str:
    return "no parameters" if not count else f"{count} parameter{'s' if count > 1 else ''}"
