"""A local copy of the archive's objects, for DuckDB (which cannot read S3 here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.sql.errors import SqlError, aws_reason
from local.sql.tables import ArchiveTable

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
        raise SqlError(f"archive s3://{table.bucket}/{table.prefix}: {aws_reason(err)}") from None
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
