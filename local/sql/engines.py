"""The two engines behind one interface: embedded DuckDB over the local copy, and Athena."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb
from botocore.exceptions import BotoCoreError, ClientError

from infra import names as infra_names
from local.sql.dialect import DUCKDB_SETTINGS, to_duckdb
from local.sql.errors import Param, QueryError, SqlError, aws_reason
from local.sql.results import QueryResult
from local.sql.tables import ArchiveTable

ENGINES = ("duckdb", "athena")


class Engine(Protocol):
    def run(self, sql: str, params: Sequence[Param], label: str) -> QueryResult:
        """Rows of `sql` (Athena's dialect) with `params` for its `?`; QueryError if it fails."""
        ...


class DuckDbEngine:
    """Runs Athena SQL on embedded DuckDB over the cached archive (see `sync_archive`)."""

    def __init__(self, tables: Sequence[ArchiveTable], cache_dir: Path) -> None:
        self.tables = tuple(tables)
        self.cache_dir = cache_dir
        self._connection: Any = None

    def run(self, sql: str, params: Sequence[Param], label: str) -> QueryResult:
        try:
            statement = to_duckdb(sql)
        except SqlError as err:
            raise QueryError(label, str(err)) from None
        connection = self._connect()
        try:
            # Recreated every time: objects cached since then become visible.
            for table in self.tables:
                connection.execute(self.view_sql(table))
            relation = connection.sql(statement, params=list(params) or None)
            if relation is None:  # a statement without rows
                return QueryResult((), ())
            columns = tuple(relation.columns)
            types = [str(t) for t in relation.types]
            relation = _without_zones(relation, types)
            rows = relation.fetchall()
        except duckdb.Error as err:
            raise QueryError(label, str(err)) from None
        floats = [i for i, t in enumerate(types) if t == "FLOAT"]
        if floats:
            rows = [_round_floats(row, floats) for row in rows]
        return QueryResult(columns, tuple(tuple(row) for row in rows))

    def view_sql(self, table: ArchiveTable) -> str:
        """The view named like the Glue table, over its cached objects (or over nothing)."""
        names = [_quote_identifier(c.name) for c in table.columns]
        key = _quote_identifier(table.partition_key)
        root = self.cache_dir / table.bucket / table.prefix
        depth = table.partition_depth + 1
        if not any(path.is_file() for path in root.glob("/".join(["*"] * depth))):
            columns = [
                f"CAST(NULL AS {c.duckdb_type}) AS {n}"
                for c, n in zip(table.columns, names, strict=True)
            ]
            return (
                f"CREATE OR REPLACE VIEW {_quote_identifier(table.name)} AS "
                f"SELECT {', '.join(columns)}, CAST(NULL AS VARCHAR) AS {key} WHERE false"
            )
        # Each object's keys lower-cased and matched to the columns, as the
        # JsonSerDe matches them; TRY_CAST turns wrong types into NULL.
        columns = [
            f"TRY_CAST(list_filter(fields, lambda f: lower(f.key) = "
            f"{_quote_literal(c.name.lower())})[1].value ->> '$' AS {c.duckdb_type}) AS {n}"
            for c, n in zip(table.columns, names, strict=True)
        ]
        files = _quote_literal(str(root / "/".join(["*"] * depth)))
        pattern = _quote_literal(table.partition_pattern())
        return (
            f"CREATE OR REPLACE VIEW {_quote_identifier(table.name)} AS "
            f"SELECT {', '.join(columns)}, regexp_extract(filename, {pattern}, 1) AS {key} "
            "FROM (SELECT map_entries(TRY_CAST(json AS MAP(VARCHAR, JSON))) AS fields, filename "
            f"FROM read_ndjson_objects({files}, ignore_errors = true, filename = true) "
            "WHERE json_type(json) = 'OBJECT')"
        )

    def _connect(self) -> Any:
        if self._connection is None:
            connection = duckdb.connect(":memory:")
            for name, value in DUCKDB_SETTINGS.items():
                text = value if isinstance(value, str) else str(value).lower()
                connection.execute(f"SET {name} = {_quote_literal(text)}")
            self._connection = connection
        return self._connection


def _without_zones(relation: Any, types: list[str]) -> Any:
    # DuckDB's Python client needs pytz to return zoned values; UTC is the
    # session's zone, so the naive value is the UTC instant.
    if not any(t.endswith("WITH TIME ZONE") for t in types):
        return relation
    projections = [
        f"CAST(#{i} AS {t.removesuffix(' WITH TIME ZONE')})"
        if t.endswith("WITH TIME ZONE")
        else f"#{i}"
        for i, t in enumerate(types, start=1)
    ]
    return relation.project(", ".join(projections))


def _round_floats(row: tuple[Any, ...], indexes: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in indexes:
        if values[i] is not None:
            values[i] = float32_value(values[i])
    return tuple(values)


def float32_value(value: float) -> float:
    """The shortest decimal that is the same 32-bit float: Athena shows REALs this way."""
    exact = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(6, 10):
        short = float(f"{exact:.{digits}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == exact:
            return short
    return float(exact)


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class AthenaEngine:
    """Runs SQL on Athena in the workshop's workgroup and database, waiting for the result."""

    TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")

    def __init__(
        self,
        athena: Any,
        *,
        database: str = infra_names.GLUE_DATABASE,
        workgroup: str = infra_names.ATHENA_WORKGROUP,
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: float = 600.0,
    ) -> None:
        self.athena = athena
        self.database = database
        self.workgroup = workgroup
        self.sleep = sleep
        self.timeout_seconds = timeout_seconds

    def run(self, sql: str, params: Sequence[Param], label: str) -> QueryResult:
        try:
            query_id = self._start(sql, params)
            self._wait(query_id, label)
            return self._results(query_id)
        except ClientError as err:
            raise QueryError(label, f"Athena: {aws_reason(err)}") from None
        except BotoCoreError as err:
            raise QueryError(label, f"Athena: {err}") from None

    def _start(self, sql: str, params: Sequence[Param]) -> str:
        request: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database},
        }
        if params:
            request["ExecutionParameters"] = [athena_literal(p) for p in params]
        return str(self.athena.start_query_execution(**request)["QueryExecutionId"])

    def _wait(self, query_id: str, label: str) -> None:
        waited, pause = 0.0, 0.25
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"][
                "Status"
            ]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in self.TERMINAL:
                reason = (
                    status.get("AthenaError", {}).get("ErrorMessage")
                    or status.get("StateChangeReason")
                    or "no reason given"
                )
                raise QueryError(label, f"Athena query {state}: {reason}")
            if waited >= self.timeout_seconds:
                self.athena.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(
                    label, f"Athena query {query_id} still {state} after {waited:g} s; stopped"
                )
            self.sleep(pause)
            waited += pause
            pause = min(pause * 2, 2.0)

    def _results(self, query_id: str) -> QueryResult:
        columns: tuple[str, ...] = ()
        types: list[str] = []
        rows: list[tuple[Any, ...]] = []
        request: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 1000}
        first = True
        while True:
            page = self.athena.get_query_results(**request)
            result = page["ResultSet"]
            page_rows = [
                tuple(cell.get("VarCharValue") for cell in row.get("Data", []))
                for row in result.get("Rows", [])
            ]
            if first:
                info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = tuple(c.get("Label") or c["Name"] for c in info)
                types = [c.get("Type", "varchar") for c in info]
                # A SELECT's first row repeats the column labels; DDL results have none.
                if page_rows and (not columns or page_rows[0] == columns):
                    columns = columns or tuple(str(v) for v in page_rows[0])
                    page_rows = page_rows[1:]
                first = False
            rows += [
                tuple(_athena_value(v, t) for v, t in _typed(row, types)) for row in page_rows
            ]
            token = page.get("NextToken")
            if not token:
                return QueryResult(columns, tuple(rows))
            request["NextToken"] = token


def athena_literal(value: Param) -> str:
    """`value` as the SQL literal Athena's ExecutionParameters expect: strings quoted."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SqlError(f"parameter {value!r} is not a finite number")
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(' ', 'milliseconds')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return _quote_literal(value)


def _typed(row: tuple[Any, ...], types: list[str]) -> list[tuple[Any, str]]:
    return [(v, types[i] if i < len(types) else "varchar") for i, v in enumerate(row)]


def _athena_value(text: str | None, athena_type: str) -> Any:
    if text is None:
        return None
    kind = athena_type.lower().split("(")[0]
    try:
        if kind in ("tinyint", "smallint", "integer", "int", "bigint"):
            return int(text)
        if kind in ("double", "float", "real"):
            return float(text)
        if kind == "decimal":
            return Decimal(text)
        if kind == "boolean":
            return text == "true"
        if kind == "timestamp":
            return datetime.fromisoformat(text)
        if kind == "date":
            return date.fromisoformat(text)
    except ValueError:
        pass  # a value Athena formats differently: better shown as text than lost
    return text
