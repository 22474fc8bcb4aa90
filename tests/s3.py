"""A real S3-speaking server for the tests: moto's standalone server in a process of its
own on a free loopback port (not a mock of the storage class: django-storages and boto3
talk HTTP to it exactly as they would to AWS, MinIO or R2)."""

import os
import signal
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import boto3
import pytest
import requests

from harness.services import ServiceError, free_port, wait_until

REGION = "eu-west-1"
# moto accepts any credentials; these are made up and only ever sent to it.
ACCESS_KEY = "AKIAOCTOPODSTEST0001"
SECRET_KEY = "octopods-test-secret-access-key-not-real-0001"


class S3Server:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None

    def start(self) -> "S3Server":
        try:
            import moto.server  # noqa: F401
        except ImportError:
            message = "moto[server] is not installed (it is in the dev dependencies)"
            if os.environ.get("CI"):
                pytest.fail(message)  # CI must run the S3 tests, never skip them
            pytest.skip(message)
        self.log = Path(tempfile.mkstemp(prefix="octopods-moto-", suffix=".log")[1])
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - moto's own server
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until(self._answers, timeout=60, what=f"moto's S3 server on {self.url}")
        except ServiceError as error:
            self.stop()
            pytest.fail(f"{error}\n{self.log.read_text(errors='replace')[-2000:]}")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise ServiceError(f"moto's server exited ({self.process.returncode})")
        try:
            return requests.get(self.url + "/moto-api/", timeout=2).status_code < 500
        except requests.RequestException:
            return False

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def create_bucket(self, name: str):
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listed.get("Contents", [])]

    def body(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def env(self, bucket: str) -> dict[str, str]:
        """The environment an Octopods process needs to keep its files in ``bucket``."""
        return {
            "MEDIA_S3_BUCKET": bucket,
            "MEDIA_S3_ENDPOINT_URL": self.url,
            "MEDIA_S3_REGION": REGION,
            "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.log is not None:
            self.log.unlink(missing_ok=True)


def s3_storages(server: S3Server, bucket: str, monkeypatch) -> dict:
    """The STORAGES setting the production settings build from ``server.env(bucket)``."""
    from octopods.settings import base

    for name, value in server.env(bucket).items():
        monkeypatch.setenv(name, value)
    return {
        "default": base.media_storage(),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
