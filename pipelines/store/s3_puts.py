"""An S3 archive's create-only PUTs of bytes, through obstore (signing and HTTP in Rust).

Why not botocore for these: measured against weed mini on 2 cores, botocore spends 1.3-2 ms
of Python per PUT (building the request, its event hooks, signing, http.client), all of it
under the GIL the crawl's Scrapy and parsers need. obstore (the Python binding of Apache
Arrow's `object_store`) makes the same conditional PUT for 0.2-0.3 ms of CPU and releases
the GIL while it waits, so a crawl's archiver threads upload side by side with its parsing.
A new article is three such PUTs (text, record, index marker).

Everything else an S3 archive does (reads, HEADs, lists, the bucket check, WARC files
streamed from disk) stays with boto3. Where the PUTs go is read from the boto3 client
itself (its presigned URL: endpoint, path or virtual-host addressing, region), so both
libraries address the same bucket the same way; the credentials are the client's own (the
standard AWS chain), handed over fresh at every refresh.

The same conditional PUT as before: `If-None-Match: *`; 412 (or 409, a concurrent
conditional write) means another writer created the key. Errors name the key, the location
and the S3 error code, never a credential: obstore's own message (URLs, the response body) is
read for its code and dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import obstore
from botocore.exceptions import BotoCoreError
from obstore.exceptions import AlreadyExistsError, BaseError, PreconditionError
from obstore.store import S3Store as ObjectStore

from pipelines.store.base import StoreError, StoreUnavailable

# Answers meaning "the key exists or another writer is creating it", and those of a store
# that is there but struggling (an outage: the crawl spools), as S3 error codes or statuses.
# (Both libraries' answers: pipelines/store/s3.py reads boto3's with the same sets.)
CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
OUTAGE_CODES = {"500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown"}
_S3_CODE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
_STATUS = re.compile(r"status code: (\d{3})")
_NO_ANSWER = ("error sending request", "connection", "timed out", "timeout")
# How long obstore may keep the credentials it was handed before asking again.
CREDENTIALS_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class PutTarget:
    """Where the PUTs go, as the boto3 client would send them."""

    endpoint: str  # with the bucket in the host name when virtual-hosted
    virtual_hosted: bool
    region: str


def put_target(client: Any, bucket: str) -> PutTarget:
    """Read the endpoint and addressing style off a PUT URL the client presigns (no request
    is made): one owner for how the bucket is addressed, the boto3 client."""
    try:
        url = client.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60
        )
    except BotoCoreError as error:  # no credentials to sign with: the check says so first
        raise StoreError(f"cannot address bucket '{bucket}': {type(error).__name__}") from None
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    region = client.meta.region_name or "us-east-1"
    path_style = f"/{bucket}/k"
    if parts.path.endswith(path_style):
        return PutTarget(base + parts.path[: -len(path_style)], False, region)
    return PutTarget(base + parts.path[: -len("/k")], True, region)


class ClientCredentials:
    """obstore's credential provider: the boto3 credentials, frozen afresh at each refresh
    (temporary credentials from a role or SSO renew themselves in botocore)."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials

    def __call__(self) -> dict[str, Any]:
        frozen = self.credentials.get_frozen_credentials()
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": datetime.now(UTC) + CREDENTIALS_TTL,
        }


class ConditionalPuts:
    """Create-only PUTs of bytes under `s3://bucket/prefix/`, as the S3 store's client
    would address them."""

    def __init__(
        self,
        client: Any,
        credentials: Any,
        bucket: str,
        prefix: str,
        location: str,
        retry_attempts: int,
        timeout: float = 10,
    ) -> None:
        self.location = location
        target = put_target(client, bucket)
        self.store = ObjectStore(
            bucket,
            prefix=prefix.rstrip("/") or None,
            endpoint=target.endpoint,
            region=target.region,
            virtual_hosted_style_request=target.virtual_hosted,
            credential_provider=ClientCredentials(credentials),  # type: ignore[arg-type]
            client_options={
                "allow_http": target.endpoint.startswith("http://"),
                "connect_timeout": timedelta(seconds=timeout),
                "timeout": timedelta(seconds=timeout * 3),
            },
            retry_config={
                # botocore counts the first attempt, obstore only the retries
                "max_retries": max(retry_attempts - 1, 0),
                "retry_timeout": timedelta(seconds=timeout * 3 * max(retry_attempts, 1)),
            },
        )

    def put_if_absent(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        """Create `key` unless it exists: True if created, False if it was there."""
        attributes: dict[str, str] = {**(metadata or {}), "Content-Type": content_type}
        if content_encoding:
            attributes["Content-Encoding"] = content_encoding
        try:
            obstore.put(
                self.store, key, data, mode="create", attributes=attributes, use_multipart=False
            )
        except (AlreadyExistsError, PreconditionError):
            return False
        except BaseError as error:
            code = error_code(error)
            if code in CONFLICT_CODES:
                return False
            message = f"cannot write {key} in {self.location}: {code}"
            if code in OUTAGE_CODES or code == "no answer":
                raise StoreUnavailable(message) from None
            raise StoreError(message) from None
        return True


def error_code(error: BaseException) -> str:
    """The S3 error code in an obstore error (`AccessDenied`), else the HTTP status, else
    "no answer" for a connection that failed or timed out, else the error's class."""
    text = str(error)
    for pattern in (_S3_CODE, _STATUS):
        found = pattern.search(text)
        if found:
            return found[1]
    if any(sign in text.lower() for sign in _NO_ANSWER):
        return "no answer"
    return type(error).__name__
