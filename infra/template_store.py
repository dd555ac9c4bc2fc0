"""Templates too big to send inline go through S3, as `sam deploy` does with its managed bucket.

CreateStack and UpdateStack take a TemplateBody of at most 51,200 bytes, or a
TemplateURL of one in S3 of up to 1 MB. With two data sets the supporting
template is close to the first limit, so `make deploy` sends it inline while
it fits and otherwise uploads it to a bucket of the account and region
(`wildrydes-templates-<account>-<region>`), made on first use: private,
encrypted, templates (under `templates/`) expiring after 30 days (a template
is only read while its stack is created or updated). It has no TLS-only bucket policy, unlike
the archive: it holds templates, not data, only this tool and CloudFormation
(both over HTTPS) use it, and moto, which the deploy tests run on, applies
such a policy's Deny without its condition. The bucket is shared by the
stages and outlives them; delete it by hand when no stage is left. The
`chalice package` path (`infra.stack_deploy`) uploads its template and
deployment package to the same bucket, under `packages/`, where nothing
expires: CloudFormation may need a function's earlier code to roll back.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from infra.errors import InfraError

BODY_LIMIT = 51_200  # bytes of a TemplateBody
URL_LIMIT = 1_000_000  # bytes of a template read from S3
EXPIRY_DAYS = 30
# Templates of the `chalice deploy` path, which expire; what the `chalice package`
# path uploads (its functions' code, which a rollback may need again) goes under
# PACKAGES and is kept.
TEMPLATES = "templates/"
PACKAGES = "packages/"


class TemplateStore:
    """The account's template bucket in one region."""

    def __init__(self, s3: Any, account: str, region: str) -> None:
        self.s3 = s3
        self.region = region
        self.bucket = f"wildrydes-templates-{account}-{region}"

    def url(self, stack: str, body: str) -> str:
        """Upload `body` (once per content) and return the URL CloudFormation reads it from."""
        self._ensure_bucket()
        key = f"{TEMPLATES}{stack}/{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        except ClientError as err:
            raise InfraError(
                f"uploading the template to s3://{self.bucket}/{key}: {err}"
            ) from None
        return f"https://s3.{self.region}.amazonaws.com/{self.bucket}/{key}"

    def ensure_bucket(self) -> str:
        """The bucket, made first if it does not exist yet; its name."""
        self._ensure_bucket()
        return self.bucket

    def _ensure_bucket(self) -> None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise InfraError(f"the template bucket {self.bucket}: {err}") from None
            self._create_bucket()
        # Again on every use: a bucket made by an earlier version expired everything.
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "templates-expire",
                        "Status": "Enabled",
                        "Filter": {"Prefix": TEMPLATES},
                        "Expiration": {"Days": EXPIRY_DAYS},
                    }
                ]
            },
        )

    def _create_bucket(self) -> None:
        where = (
            {}
            if self.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        self.s3.create_bucket(Bucket=self.bucket, **where)
        self.s3.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.s3.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )


def template_source(stack: str, body: str, templates: TemplateStore | None) -> dict[str, str]:
    """`TemplateBody` while the template fits one, else `TemplateURL` through the store."""
    size = len(body.encode())
    if size <= BODY_LIMIT:
        return {"TemplateBody": body}
    if size > URL_LIMIT:
        raise InfraError(f"the template of {stack} is {size:,} bytes, over CloudFormation's 1 MB")
    if templates is None:
        raise InfraError(
            f"the template of {stack} is {size:,} bytes, over the {BODY_LIMIT:,} a TemplateBody "
            "takes, and no template bucket was given"
        )
    return {"TemplateURL": templates.url(stack, body)}
