"""SQL over the archive: on embedded DuckDB locally, on Athena on AWS.

The table definitions, one per archived stream (`wildrydes`, `taxi_trips`),
from `infra/system.py`, the description the Glue tables are rendered from; one
text per query (`infra/queries/<table>/*.sql`, Athena's dialect), translated
for DuckDB in one place (`to_duckdb`, with sqlglot); two engines behind one entry point
(`run_query`, `run_named`), and `sql_command` for the command line.

The modules, by concern: `errors`, `tables` (the archive's tables, from
`infra.system`), `mirror` (the local copy of the archive), `dialect`, `engines`,
`results`, `queries` (the entry points) and `command`.

DuckDB cannot read S3 here (its `httpfs` extension is downloaded at run time),
so the DuckDB engine first mirrors the archive's objects into a local cache
directory, keeping the key layout, and reads newline-delimited JSON from there
through a view per table, shaped like the Glue table:

- the table's columns only, looked up case-insensitively in each JSON object,
  as the table's JSON SerDe does (`name` reads `Name`), each value converted with
  TRY_CAST, so `StatusTime`'s `YYYY-MM-DD HH:MM:SS.mmm` becomes a TIMESTAMP;
- the partition column `dt`, the `yyyy/MM/dd/HH` text of the object's key,
  as Athena's partition projection gives it;
- lines that are not JSON objects are skipped (DuckDB's `ignore_errors`), as
  the table's OpenX SerDe skips them with `ignore.malformed.json`; values of
  the wrong type read as NULL here, where Athena may fail the query
  (HIVE_BAD_DATA) on such a record;
- unlike Athena's projection range (`NOW-1YEARS,NOW`), every cached hour is read.
"""

from local.sql.command import cli_param, sql_command
from local.sql.dialect import to_duckdb
from local.sql.engines import ENGINES, AthenaEngine, DuckDbEngine, athena_literal
from local.sql.errors import Param, QueryError, SqlError
from local.sql.mirror import SyncReport, sync_archive
from local.sql.queries import Sources, find_named, run_named, run_query
from local.sql.results import QueryResult, format_table
from local.sql.tables import (
    ArchiveTable,
    Column,
    archive_table,
    archive_tables,
    duckdb_type,
)

__all__ = [
    "ENGINES",
    "ArchiveTable",
    "AthenaEngine",
    "Column",
    "DuckDbEngine",
    "Param",
    "QueryError",
    "QueryResult",
    "Sources",
    "SqlError",
    "SyncReport",
    "archive_table",
    "archive_tables",
    "athena_literal",
    "cli_param",
    "duckdb_type",
    "find_named",
    "format_table",
    "run_named",
    "run_query",
    "sql_command",
    "sync_archive",
    "to_duckdb",
]
