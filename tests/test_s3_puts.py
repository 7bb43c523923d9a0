"""The S3 archive's create-only PUTs of bytes (obstore): the same objects, answers and errors
as boto3's, on a real weed mini; where they go read off the boto3 client (pure)."""

from __future__ import annotations

import socket
import time

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config as BotoConfig
from obstore.exceptions import GenericError, PermissionDeniedError

from pipelines.store import StoreError, StoreUnavailable
from pipelines.store.s3 import S3Store
from pipelines.store.s3_puts import PutTarget, error_code, put_target
from tests.support.s3server import SECRET_KEY, WeedMini

METADATA = {"site": "futu", "article-id": "41283375-en", "content-sha256": "ab" * 32}


def client(style: str, endpoint: str | None = None, region: str = "eu-west-1") -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-used",
        config=BotoConfig(s3={"addressing_style": style}),
    )


@pytest.mark.parametrize(
    ("style", "endpoint", "expected"),
    [
        ("path", "http://127.0.0.1:9000", PutTarget("http://127.0.0.1:9000", False, "eu-west-1")),
        ("path", None, PutTarget("https://s3.eu-west-1.amazonaws.com", False, "eu-west-1")),
        (
            "virtual",
            None,
            PutTarget("https://news-archive.s3.eu-west-1.amazonaws.com", True, "eu-west-1"),
        ),
        (
            "auto",
            "https://acc.r2.cloudflarestorage.com",
            PutTarget("https://acc.r2.cloudflarestorage.com", False, "eu-west-1"),
        ),
        (
            "path",
            "http://minio.local:9000/s3",
            PutTarget("http://minio.local:9000/s3", False, "eu-west-1"),
        ),
    ],
)
def test_the_puts_go_where_the_boto3_client_would_send_them(
    style: str, endpoint: str | None, expected: PutTarget
) -> None:
    assert put_target(client(style, endpoint), "news-archive") == expected


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            PermissionDeniedError(
                "Error performing PUT http://h/b/k: 403 Forbidden: "
                "<Error><Code>SignatureDoesNotMatch</Code></Error>"
            ),
            "SignatureDoesNotMatch",
        ),
        (GenericError("Server returned non-2xx status code: 503 Service Unavailable: "), "503"),
        (
            GenericError(
                "Error performing PUT http://h/b/k after 2 retries - HTTP error: "
                "error sending request"
            ),
            "no answer",
        ),
        (GenericError("something else entirely"), "GenericError"),
    ],
)
def test_an_obstore_error_is_read_for_its_s3_code(error: Exception, code: str) -> None:
    assert error_code(error) == code


def test_a_put_creates_the_object_boto3_would_and_a_second_finds_it(
    weed: WeedMini, bucket: str
) -> None:
    store = S3Store(f"s3://{bucket}/news", weed.client(), weed.endpoint)
    assert store.put_if_absent("raw/a.html.gz", b"\x1f\x8b-page", "text/html", "gzip", METADATA)
    assert not store.put_if_absent("raw/a.html.gz", b"other bytes", "text/html", "gzip", METADATA)
    reader = weed.client()
    head = reader.head_object(Bucket=bucket, Key="news/raw/a.html.gz")
    assert (head["ContentType"], head["ContentEncoding"]) == ("text/html", "gzip")
    assert head["Metadata"] == METADATA
    body = reader.get_object(Bucket=bucket, Key="news/raw/a.html.gz")["Body"].read()
    assert body == b"\x1f\x8b-page"  # the first writer's bytes, untouched by the second
    # the same object as boto3's own conditional PUT makes
    reader.put_object(
        Bucket=bucket,
        Key="news/raw/b.html.gz",
        Body=b"x",
        IfNoneMatch="*",
        ContentType="text/html",
        ContentEncoding="gzip",
        Metadata=METADATA,
    )
    theirs = reader.head_object(Bucket=bucket, Key="news/raw/b.html.gz")
    for field in ("ContentType", "ContentEncoding", "Metadata"):
        assert theirs[field] == head[field]


def test_a_refused_secret_is_a_store_error_with_the_s3_code_and_no_credential(
    weed: WeedMini, bucket: str
) -> None:
    store = S3Store(f"s3://{bucket}/news", weed.client("wrong-secret-4u"), weed.endpoint)
    with pytest.raises(StoreError) as caught:
        store.put_if_absent("a/b.txt", b"x", "text/plain")
    assert not isinstance(caught.value, StoreUnavailable)  # a mistake, not an outage
    assert str(caught.value) == f"cannot write a/b.txt in s3://{bucket}/news: SignatureDoesNotMatch"
    assert SECRET_KEY not in str(caught.value) and "wrong-secret-4u" not in str(caught.value)


def test_a_server_that_does_not_answer_is_an_outage_within_the_retries(weed: WeedMini) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    ready = boto3.client(
        "s3",
        endpoint_url=closed,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key=SECRET_KEY,
        config=BotoConfig(s3={"addressing_style": "path"}),
    )
    store = S3Store("s3://news/archive", ready, closed, retry_attempts=2)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.put_if_absent("a/b.txt", b"x", "text/plain")
    assert time.monotonic() - started < 30  # one retry with backoff, not obstore's 3 minutes
    assert str(caught.value) == "cannot write a/b.txt in s3://news/archive: no answer"


def test_a_store_without_credentials_says_so_in_one_line() -> None:
    anonymous = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=BotoConfig(signature_version=UNSIGNED),
    )
    store = S3Store("s3://news/archive", anonymous, "http://127.0.0.1:9")
    with pytest.raises(StoreError, match="no S3 credentials for bucket 'news'"):
        store.put_if_absent("a/b.txt", b"x", "text/plain")
