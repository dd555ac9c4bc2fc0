"""SQL over the archive: on embedded DuckDB locally, on Athena on AWS.

The table definitions, one per archived stream (`wildrydes`, `taxi_trips`),
read from the template's `AWS::Glue::Table`s rather than written again; one
text per query (`infra/queries/<table>/*.sql`, Athena's dialect), translated
for DuckDB in one place (`to_duckdb`, with sqlglot); two engines behind one entry point
(`run_query`, `run_named`), and `sql_command` for the command line.

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

from __future__ import annotations

import argparse
import re
import struct
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, ClassVar, NoReturn, Protocol

import duckdb
import sqlglot
from botocore.exceptions import BotoCoreError, ClientError
from sqlglot import exp
from sqlglot.dialects.dialect import unit_to_str
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator

from infra import names as infra_names
from infra import resources
from infra.named_queries import NamedQuery, named_queries
from local.state import state_dir

ENGINES = ("duckdb", "athena")
DEFAULT_MAX_ROWS = 50

# A value the user supplies for a `?`.
Param = str | int | float | bool | None | datetime | date
# Turns a CloudFormation value (plain, `Ref`, `Fn::Sub`) into a concrete one.
Resolve = Callable[[Any], Any]


class SqlError(Exception):
    """A problem the user can act on, described in one line."""


class QueryError(SqlError):
    """A query failed; the message names the query (`label`) and the engine's reason."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {_one_line(reason)}")
        self.label = label


# --- The table, as the template defines it -------------------------------------------

# Hive's types (Glue column types) and DuckDB's, in one place.
HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "decimal": "DECIMAL",
    "binary": "BLOB",
}


def duckdb_type(hive_type: str) -> str:
    """DuckDB's type for a Hive column type: `int` → INTEGER, `decimal(9,2)` → DECIMAL(9,2)."""
    match = re.fullmatch(r"\s*([a-z]+)\s*(\(\s*\d+\s*(?:,\s*\d+\s*)?\))?\s*", hive_type.lower())
    base = HIVE_TO_DUCKDB.get(match.group(1)) if match else None
    if match is None or base is None:
        raise SqlError(f"Hive type {hive_type!r} has no DuckDB equivalent here")
    # Only DECIMAL keeps its precision; DuckDB's VARCHAR has no length.
    size = match.group(2) if base == "DECIMAL" else None
    return base + (size.replace(" ", "") if size else "")


@dataclass(frozen=True)
class Column:
    name: str
    hive_type: str

    @property
    def duckdb_type(self) -> str:
        return duckdb_type(self.hive_type)


@dataclass(frozen=True)
class ArchiveTable:
    """The Glue table over the archive: where its objects are and what their rows hold."""

    name: str
    database: str
    columns: tuple[Column, ...]
    bucket: str
    prefix: str  # e.g. "raw/"; objects sit at prefix + partition value + "/" + file
    partition_key: str  # e.g. "dt"
    partition_format: str  # Athena's date format of the partition value, "yyyy/MM/dd/HH"

    @classmethod
    def from_resource(cls, properties: Mapping[str, Any], resolve: Resolve) -> ArchiveTable:
        """The table from the `Properties` of an `AWS::Glue::Table` with date projection."""
        table = properties["TableInput"]
        name = str(resolve(table["Name"]))
        parameters = table.get("Parameters", {})
        keys = table.get("PartitionKeys", [])
        if len(keys) != 1:
            raise SqlError(f"table {name}: expected one partition key, found {len(keys)}")
        key = str(keys[0]["Name"])
        if parameters.get(f"projection.{key}.type") != "date":
            raise SqlError(f"table {name}: partition {key} is not a projected date")
        location = parameters.get("storage.location.template")
        if location is not None:
            location = str(resolve(location))
            # `${dt}` once resolved; `${!dt}` (Fn::Sub's escape) if a resolver left it.
            placeholder = re.search(r"\$\{!?" + re.escape(key) + r"\}/$", location)
            if placeholder is None:
                raise SqlError(
                    f"table {name}: location template {location!r} does not end in ${{{key}}}/"
                )
            location = location[: placeholder.start()]
        else:
            location = str(resolve(table["StorageDescriptor"]["Location"]))
        bucket, prefix = _split_s3_url(location, name)
        return cls(
            name=name,
            database=str(resolve(properties["DatabaseName"])),
            columns=tuple(
                Column(str(c["Name"]), str(c["Type"]))
                for c in table["StorageDescriptor"]["Columns"]
            ),
            bucket=bucket,
            prefix=prefix,
            partition_key=key,
            partition_format=str(parameters[f"projection.{key}.format"]),
        )

    @property
    def partition_depth(self) -> int:
        """How many key segments the partition value spans (4 for `yyyy/MM/dd/HH`)."""
        return self.partition_format.count("/") + 1

    def partition_pattern(self) -> str:
        """A regular expression whose group 1 is the partition value in an object's path."""
        tokens = {"yyyy": "[0-9]{4}", "MM": "[0-9]{2}", "dd": "[0-9]{2}", "HH": "[0-9]{2}"}
        tokens |= {"mm": "[0-9]{2}", "ss": "[0-9]{2}"}
        parts = re.split(r"(yyyy|MM|dd|HH|mm|ss)", self.partition_format)
        value = "".join(tokens.get(p) or re.escape(p) for p in parts)
        return f"/({value})/[^/]+$"


def resolver(values: Mapping[str, Any]) -> Resolve:
    """Resolves `Ref` and string `Fn::Sub` with `values` (logical id or pseudo parameter)."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name not in values:
            raise SqlError(f"no value for ${{{name}}} in the template")
        return str(values[name])

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Ref"}:
            if value["Ref"] not in values:
                raise SqlError(f"no value for Ref {value['Ref']} in the template")
            return values[value["Ref"]]
        if (
            isinstance(value, dict)
            and set(value) == {"Fn::Sub"}
            and isinstance(value["Fn::Sub"], str)
        ):
            return re.sub(r"\$\{([^}]+)\}", substitute, value["Fn::Sub"])
        if isinstance(value, dict):
            raise SqlError(f"cannot resolve {value!r}")
        return value

    return resolve


def archive_tables(bucket: str, stage: str = "dev") -> tuple[ArchiveTable, ...]:
    """Every table over the archive in `stage`'s template (the raw stream's first)."""
    template = resources.supporting_resources(stage)
    resolve = resolver(
        {
            resources.ARCHIVE_BUCKET_ID: bucket,
            resources.GLUE_DATABASE_ID: infra_names.GLUE_DATABASE,
        }
    )
    return tuple(
        ArchiveTable.from_resource(template["Resources"][a.table_id]["Properties"], resolve)
        for a in resources.ARCHIVED_STREAMS
    )


def archive_table(
    bucket: str, stage: str = "dev", name: str = infra_names.GLUE_TABLE
) -> ArchiveTable:
    """The archive table `name` of `stage`'s template, its bucket being `bucket`."""
    for table in archive_tables(bucket, stage):
        if table.name == name:
            return table
    raise SqlError(f"no table {name!r} over the archive")


def _split_s3_url(url: str, table: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([^/]+)/(.*)", url)
    if match is None:
        raise SqlError(f"table {table}: location {url!r} is not an s3:// URL")
    prefix = match.group(2)
    return match.group(1), prefix if not prefix or prefix.endswith("/") else prefix + "/"


# --- Mirroring the archive -----------------------------------------------------------

PARTIAL_DIR = ".partial"  # downloads in progress, outside the tree the view reads


@dataclass(frozen=True)
class SyncReport:
    downloaded: int
    present: int
    removed: int
    bytes: int


def sync_archive(s3: Any, table: ArchiveTable, cache_dir: Path) -> SyncReport:
    """Mirror the table's objects into `cache_dir/<bucket>/<key>`.

    The archive is append-only: an object once written never changes, so only
    keys not yet cached are downloaded. Cached files whose keys are gone are
    removed, which happens when a fresh local endpoint starts a new archive.
    """
    root = cache_dir / table.bucket
    partial = root / PARTIAL_DIR
    listed: set[Path] = set()
    downloaded = present = size = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=table.bucket, Prefix=table.prefix
        ):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or ".." in key.split("/"):
                    continue  # folder markers, and keys that would escape the cache
                path = root / key
                listed.add(path)
                if path.is_file() and path.stat().st_size == obj["Size"]:
                    present += 1
                    continue
                partial.mkdir(parents=True, exist_ok=True)
                temporary = partial / key.replace("/", "%")
                body = s3.get_object(Bucket=table.bucket, Key=key)["Body"]
                with temporary.open("wb") as out:
                    for chunk in body.iter_chunks(1 << 20):
                        out.write(chunk)
                path.parent.mkdir(parents=True, exist_ok=True)
                # A rename, so the view never reads half an object.
                temporary.replace(path)
                downloaded += 1
                size += obj["Size"]
    except ClientError as err:
        raise SqlError(f"archive s3://{table.bucket}/{table.prefix}: {_aws_reason(err)}") from None
    except BotoCoreError as err:
        raise SqlError(f"archive s3://{table.bucket}/{table.prefix}: {err}") from None
    removed = 0
    tree = root / table.prefix
    if tree.is_dir():
        for path in tree.rglob("*"):
            if path.is_file() and path not in listed:
                path.unlink()
                removed += 1
    return SyncReport(downloaded=downloaded, present=present, removed=removed, bytes=size)


# --- Results ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of Python values, the same from either engine."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def format_table(result: QueryResult, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    """`result` as aligned plain text: a header, at most `max_rows` rows, and a count."""
    if not result.columns:
        return "(no result)"
    shown = result.rows[:max_rows]
    cells = [[_cell(value) for value in row] for row in shown]
    widths = [
        max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(result.columns)
    ]
    numeric = [
        any(_is_number(row[i]) for row in shown)
        and all(_is_number(row[i]) or row[i] is None for row in shown)
        for i in range(len(result.columns))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    lines = [line(result.columns), line(["-" * w for w in widths])]
    lines += [line(row) for row in cells]
    hidden = len(result.rows) - len(shown)
    if hidden:
        lines.append(f"… and {hidden} more")
    else:
        count = len(result.rows)
        lines.append("(no rows)" if not count else f"({count} row{'s' if count > 1 else ''})")
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(" ", "milliseconds" if value.microsecond else "seconds")
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "failed"
    return " ".join(first.split())


# --- Athena's dialect on DuckDB -----------------------------------------------------

# Session settings that make DuckDB behave as Athena (Trino) does:
# - TimeZone: Athena's sessions are UTC, and so is every StatusTime;
# - integer_division: in Trino 7 / 2 is 3, in DuckDB 3.5 unless this is set;
# - default_null_order: Trino puts NULLs last in both directions.
DUCKDB_SETTINGS: dict[str, str | bool] = {
    "TimeZone": "UTC",
    "integer_division": True,
    "default_null_order": "nulls_last",
}


def _whole_units(generator: DuckDBGenerator, expression: exp.DateDiff) -> str:
    """Trino's date_diff counts whole units (14:59 to 15:10 is 0 hours); DuckDB's
    date_diff counts the boundaries crossed (1 hour), its date_sub whole units."""
    return generator.func(
        "DATE_SUB", unit_to_str(expression), expression.expression, expression.this
    )


class _AthenaOnDuckDb(DuckDB):
    """DuckDB as sqlglot writes it, but for the one translation that changes answers."""

    class Generator(DuckDBGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
            **DuckDBGenerator.TRANSFORMS,
            exp.DateDiff: _whole_units,
        }


def to_duckdb(sql: str) -> str:
    """Athena's SQL (Trino's dialect) as DuckDB's, translated by sqlglot.

    sqlglot knows both dialects' functions, types and literals; `?` parameters
    stay as they are. Integer division, time zone and NULL order are session
    settings (`DUCKDB_SETTINGS`), and `date_diff` is written as DuckDB's
    `date_sub` so that it counts whole units, as Trino's does.
    """
    try:
        statements = sqlglot.transpile(sql, read="athena", write=_AthenaOnDuckDb)
    except sqlglot.errors.ParseError as err:
        first = err.errors[0] if err.errors else {}
        where = (
            f" at line {first['line']}, column {first['col']} (near {first['highlight']!r})"
            if first.get("line")
            else ""
        )
        reason = first.get("description") or str(err)
        raise SqlError(f"not Athena SQL{where}: {_one_line(reason)}") from None
    except sqlglot.errors.SqlglotError as err:
        raise SqlError(f"cannot translate for DuckDB: {_one_line(str(err))}") from None
    return ";\n".join(statements)


# --- Engines ------------------------------------------------------------------------


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
            raise QueryError(label, f"Athena: {_aws_reason(err)}") from None
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


def _aws_reason(err: ClientError) -> str:
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', err)}"


# --- The entry points -----------------------------------------------------------------


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
            f"{query.name} takes {_parameters(query.parameters)}, got {len(params)}: "
            f"{query.description}"
        )
    return run_query(query.sql, params, sources=sources, engine=engine, label=query.name)


def _parameters(count: int) -> str:
    return "no parameters" if not count else f"{count} parameter{'s' if count > 1 else ''}"


# --- Command line -------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse writing to the given streams and raising instead of exiting."""

    def __init__(self, out: IO[str], err: IO[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._out, self._err = out, err

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self._err if file is sys.stderr else self._out).write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._err.write(message)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _parser(out: IO[str], err: IO[str], prog: str, tables: Sequence[str]) -> _Parser:
    parser = _Parser(
        out,
        err,
        prog=prog,
        description=(
            f"SQL over the Wild Rydes archive (tables {', '.join(tables)}), in Athena's "
            "dialect: on embedded DuckDB over a local copy of the archive, or on Athena."
        ),
        epilog=(
            "examples:\n"
            f'  {prog} "SELECT dt, count(*) FROM wildrydes GROUP BY dt ORDER BY dt"\n'
            f"  {prog} --named points_after --param '2026-11-22 14:00:00'\n"
            f'  {prog} "SELECT * FROM wildrydes WHERE healthpoints < ?" --param 100\n'
            f"  {prog} --named peak_hours --param 2026-11-23\n"
            f"  {prog} --named fare_trends --param 161\n"
            f'  {prog} "SELECT pickupzone, count(*) AS trips FROM taxi_trips GROUP BY 1"\n'
            f"  {prog} --list"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("sql", nargs="?", help="the query; ? marks a --param")
    what.add_argument(
        "--named", metavar="NAME", help="a named query, e.g. low_vitals or peak_hours (--list)"
    )
    what.add_argument("--list", action="store_true", help="list the named queries")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="V",
        help="a value for the next ?; plain numbers are numbers, anything else text",
    )
    parser.add_argument("--engine", choices=ENGINES, default="duckdb")
    parser.add_argument(
        "--no-sync", action="store_true", help="duckdb: query the cached archive as it is"
    )
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N")
    return parser


def cli_param(text: str) -> Param:
    """A command-line value: `42` and `-1.5` are numbers, anything else (`007` too) text."""
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)\.[0-9]+", text):
        return float(text)
    return text


def sql_command(
    argv: Sequence[str],
    *,
    sources: Sources,
    out: IO[str],
    err: IO[str],
    prog: str = "python -m local sql",
) -> int:
    """`sql "SELECT ..." [--param V ...] [--engine duckdb|athena]`, `sql --named NAME`.

    Prints the result as a table on `out`; a failure is one line on `err` and
    status 1, a usage error status 2.
    """
    parser = _parser(out, err, prog, [t.name for t in sources.tables])
    try:
        args = parser.parse_args(list(argv))
    except _Exit as done:
        return done.status
    try:
        if args.list:
            for query in named_queries():
                out.write(
                    f"q{query.number} {query.name} ({query.table}, "
                    f"{_parameters(query.parameters)}): {query.description}\n"
                )
            return 0
        params = [cli_param(p) for p in args.param]
        if args.no_sync:
            sources = replace(sources, s3=None)
        if args.named:
            result = run_named(args.named, params, sources=sources, engine=args.engine)
        else:
            result = run_query(args.sql, params, sources=sources, engine=args.engine)
    except SqlError as problem:
        err.write(f"error: {problem}\n")
        return 1
    out.write(format_table(result, max(args.max_rows, 0)) + "\n")
    return 0
