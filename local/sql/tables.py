"""The archive's tables, read from the template's `AWS::Glue::Table`s rather than written again."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra import names as infra_names
from infra import resources
from local.sql.errors import SqlError

# Turns a CloudFormation value (plain, `Ref`, `Fn::Sub`) into a concrete one.
Resolve = Callable[[Any], Any]


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
