"""The archive on S3-compatible storage (AWS S3, MinIO, SeaweedFS, R2), same keys as locally.

Create-only writes use a conditional put (`IfNoneMatch='*'`): of several writers racing on
one key exactly one creates it, the others get 412 and learn the key exists. Bytes are
PUT through obstore (pipelines/store/s3_puts.py: a tenth of botocore's CPU per request);
everything else goes through boto3. Retries on throttling and 5xx are the libraries' own
(botocore's "standard" mode, obstore's backoff), never a loop of ours.
Error messages name the bucket and endpoint, never a credential.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.handlers import add_expect_header

from pipelines.store.base import StoreError, StoreOptions, StoreUnavailable
from pipelines.store.s3_puts import CONFLICT_CODES, OUTAGE_CODES, ConditionalPuts

MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


def parse_s3_location(location: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/"); prefix may be empty."""
    parts = urlsplit(location)
    if parts.scheme != "s3" or not parts.netloc:
        raise StoreError(f"not an S3 location: {location!r} (expected s3://bucket/prefix)")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


# Their DEBUG records cost a tenth of a crawl's CPU even when no handler prints them (Scrapy
# leaves the root logger at DEBUG and filters in its handler); a failure still logs at WARNING.
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def aws_session(options: StoreOptions) -> Any:
    """The boto3 session of the archive settings: the standard AWS credential chain."""
    return boto3.session.Session(profile_name=options.profile or None)


def make_client(options: StoreOptions, timeout: float = 10, session: Any = None) -> Any:
    """A boto3 S3 client from the archive settings; credentials from the standard AWS chain."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    session = session or aws_session(options)
    config = BotoConfig(
        retries={"mode": "standard", "max_attempts": options.retry_attempts},
        s3={"addressing_style": options.addressing_style},
        connect_timeout=timeout,
        read_timeout=timeout * 3,
        # every upload thread and every reader's request in flight has a connection
        max_pool_connections=max(16, options.upload_concurrency + options.read_concurrency),
    )
    client = session.client(
        "s3",
        endpoint_url=options.endpoint_url or None,
        region_name=options.region or None,
        config=config,
    )
    # botocore sends every PUT with "Expect: 100-continue" and waits for the server's go-ahead:
    # one more round trip per object, worth it for large uploads, not for our few KiB.
    client.meta.events.unregister("before-call.s3", add_expect_header)
    return client


class S3Store:
    """Keys under `s3://bucket/prefix/`, written create-only."""

    def __init__(
        self,
        location: str,
        client: Any,
        endpoint: str = "",
        credentials: Any = None,
        retry_attempts: int = 5,
    ) -> None:
        """`credentials`: botocore credentials for the PUTs of bytes (pipelines/store/
        s3_puts.py); by default those the client was made with."""
        self.location = location
        self.bucket, self.prefix = parse_s3_location(location)
        self.client = client
        self.endpoint = endpoint or "AWS S3"
        self.credentials = credentials
        self.retry_attempts = retry_attempts
        self._puts: ConditionalPuts | None = None
        self._puts_lock = threading.Lock()

    @classmethod
    def from_options(cls, options: StoreOptions) -> S3Store:
        session = aws_session(options)
        return cls(
            options.location,
            make_client(options, session=session),
            options.endpoint_url,
            session.get_credentials(),
            options.retry_attempts,
        )

    def puts(self) -> ConditionalPuts:
        """The create-only PUTs of bytes, set up on the first write (readers never need it)."""
        with self._puts_lock:
            if self._puts is None:
                # A store made around a ready client (tests, benches) writes with the
                # client's own credentials; botocore keeps them on its request signer.
                credentials = self.credentials or self.client._get_credentials()
                if credentials is None:
                    raise StoreError(
                        f"no S3 credentials for bucket '{self.bucket}' at {self.endpoint}: "
                        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
                    )
                self._puts = ConditionalPuts(
                    self.client,
                    credentials,
                    self.bucket,
                    self.prefix,
                    self.location,
                    self.retry_attempts,
                )
            return self._puts

    def check(self) -> None:
        """Fail fast with one clear line: missing bucket, refused credentials, no endpoint."""
        where = f"bucket '{self.bucket}' at {self.endpoint}"
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (NoCredentialsError, PartialCredentialsError):
            raise StoreError(
                f"no S3 credentials for {where}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            ) from None
        except EndpointConnectionError:
            raise StoreUnavailable(f"cannot reach the S3 endpoint for {where}") from None
        except ClientError as error:
            code = _code(error)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise StoreError(f"{where} does not exist") from None
            if code in {"403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"}:
                raise StoreError(
                    f"access to {where} refused: wrong or unauthorised credentials"
                ) from None
            if code in OUTAGE_CODES:
                raise StoreUnavailable(f"{where} is not answering: {code}") from None
            raise StoreError(f"{where} is not usable: {code}") from None
        except (ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError) as error:
            raise StoreUnavailable(f"{where} is not answering: {type(error).__name__}") from None
        except BotoCoreError as error:
            raise StoreError(f"{where} is not usable: {type(error).__name__}") from None

    def put_if_absent(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        if isinstance(data, bytes):
            return self.puts().put_if_absent(key, data, content_type, content_encoding, metadata)
        # A file streamed from disk (a WARC file): botocore reads it in parts.
        extra: dict[str, Any] = {"ContentType": content_type, "Metadata": dict(metadata or {})}
        if content_encoding:
            extra["ContentEncoding"] = content_encoding
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, IfNoneMatch="*", **extra
            )
        except (ClientError, BotoCoreError) as error:
            if _code(error) in CONFLICT_CODES:
                return False
            raise self._error("write", key, error) from None
        return True

    def put_file_if_absent(self, key: str, path: Path, content_type: str) -> bool:
        # One conditional PUT streamed from the file (S3 takes up to 5 GiB in one PUT; WARC
        # files rotate well below that), so the file is never held in memory.
        try:
            with path.open("rb") as body:
                return self.put_if_absent(key, body, content_type)  # type: ignore[arg-type]
        except OSError as error:
            raise StoreError(f"cannot read {path}: {error.strerror}") from None

    def get_range(self, key: str, offset: int, length: int) -> bytes | None:
        try:
            response = self.client.get_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Range=f"bytes={offset}-{offset + length - 1}",
            )
            return response["Body"].read()
        except (ClientError, BotoCoreError) as error:
            if _code(error) in MISSING_CODES:
                return None
            raise self._error("read", key, error) from None

    def open_read(self, key: str) -> BinaryIO | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except (ClientError, BotoCoreError) as error:
            if _code(error) in MISSING_CODES:
                return None
            raise self._error("read", key, error) from None
        body: BinaryIO = response["Body"]
        return body

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return response["Body"].read()
        except (ClientError, BotoCoreError) as error:
            if _code(error) in MISSING_CODES:
                return None
            raise self._error("read", key, error) from None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except (ClientError, BotoCoreError) as error:
            if _code(error) in MISSING_CODES:
                return False
            raise self._error("check", key, error) from None
        return True

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]
        except (ClientError, BotoCoreError) as error:
            raise self._error("list", prefix, error) from None

    def _error(self, action: str, key: str, error: Exception) -> StoreError:
        """A StoreError naming the key, the location and the S3 error code; no credentials."""
        detail = _code(error) or type(error).__name__
        return StoreError(f"cannot {action} {key} in {self.location}: {detail}")


def _code(error: Exception) -> str:
    """The S3 error code of a ClientError ('' for connection and other botocore errors)."""
    if not isinstance(error, ClientError):
        return ""
    return str(error.response.get("Error", {}).get("Code", ""))
