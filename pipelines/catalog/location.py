"""Where the catalog table lives, in the terms of the Delta Lake library (delta-rs).

The archive's own store knows the location and how to reach it; this turns it into the
table's URI and `storage_options`: a local folder's `catalog/` as a path, an S3 archive's as
`s3://bucket/prefix/catalog` with the endpoint and addressing the boto3 client uses (read off
a presigned URL, as the create-only PUTs do) and the credentials of the standard AWS chain.
Commits on S3 are conditional PUTs (`If-None-Match: *`, `AWS_CONDITIONAL_PUT=etag`), so two
writers racing for one table version leave one commit and the other retries: no lock
service is needed on AWS S3, MinIO, SeaweedFS or R2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.records.layout import CATALOG_ROOT
from pipelines.store import ArchiveStore, LocalStore, StoreError

VIRTUAL = "AWS_VIRTUAL_HOSTED_STYLE_REQUEST"


@dataclass(frozen=True)
class TableLocation:
    uri: str
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)  # credentials

    def __str__(self) -> str:
        return self.uri

    def filesystem(self) -> Any:
        """The table's files to pyarrow: its own S3 client for `s3://` (None: local paths).

        Why not delta-rs's filesystem handler: pyarrow's scanner threads outlive a dataset
        read through it and abort the interpreter at exit (delta-rs #2184, polars #24169);
        the files a table version names are plain Parquet, read here by pyarrow alone."""
        if not self.uri.startswith("s3://"):
            return None
        from pyarrow import fs

        options = self.storage_options
        endpoint = options["AWS_ENDPOINT_URL"]
        scheme, _, host = endpoint.partition("://")
        return fs.S3FileSystem(
            access_key=options["AWS_ACCESS_KEY_ID"],
            secret_key=options["AWS_SECRET_ACCESS_KEY"],
            session_token=options.get("AWS_SESSION_TOKEN"),
            region=options["AWS_REGION"],
            endpoint_override=None if options.get(VIRTUAL) == "true" else host,
            scheme=scheme,
            force_virtual_addressing=options.get(VIRTUAL) == "true",
        )


def table_location(store: ArchiveStore) -> TableLocation:
    """The catalog's URI and storage options for an archive store."""
    if isinstance(store, LocalStore):
        return TableLocation(str((Path(store.location) / CATALOG_ROOT).resolve()))
    from pipelines.store.s3 import S3Store
    from pipelines.store.s3_puts import put_target

    if not isinstance(store, S3Store):
        raise StoreError(f"no catalog for a store of type {type(store).__name__}")
    credentials = store.credentials or store.client._get_credentials()
    if credentials is None:
        raise StoreError(
            f"no S3 credentials for bucket '{store.bucket}' at {store.endpoint}: "
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
        )
    frozen = credentials.get_frozen_credentials()
    target = put_target(store.client, store.bucket)
    options = {
        "AWS_ENDPOINT_URL": target.endpoint,
        "AWS_REGION": target.region,
        VIRTUAL: str(target.virtual_hosted).lower(),
        "AWS_ALLOW_HTTP": str(target.endpoint.startswith("http://")).lower(),
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_CONDITIONAL_PUT": "etag",
    }
    if frozen.token:
        options["AWS_SESSION_TOKEN"] = frozen.token
    return TableLocation(f"s3://{store.bucket}/{store.prefix}{CATALOG_ROOT}", options)
