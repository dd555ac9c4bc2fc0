"""The archive's tables, from `infra.system`: the facts the Glue tables are rendered from."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra import names as infra_names
from infra import system
from infra.system import ArchivedStream
from local.sql.errors import SqlError

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
    def of(cls, archived: ArchivedStream, bucket: str) -> ArchiveTable:
        """The Glue table over `archived`'s prefix of the archive bucket `bucket`."""
        return cls(
            name=archived.table,
            database=archived.database,
            columns=tuple(Column(name, hive_type) for name, hive_type in archived.columns),
            bucket=bucket,
            prefix=archived.prefix,
            partition_key=archived.partition_key,
            partition_format=archived.partition_format,
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


def archive_tables(bucket: str) -> tuple[ArchiveTable, ...]:
    """Every table over the archive in the bucket `bucket` (the raw stream's first)."""
    return tuple(ArchiveTable.of(archived, bucket) for archived in system.ARCHIVED_STREAMS)


def archive_table(bucket: str, name: str = infra_names.GLUE_TABLE) -> ArchiveTable:
    """The archive table `name`, its bucket being `bucket`."""
    for table in archive_tables(bucket):
        if table.name == name:
            return table
    raise SqlError(f"no table {name!r} over the archive")
