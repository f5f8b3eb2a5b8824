"""A real S3 endpoint for tests: moto's S3 server on 127.0.0.1, reached through s3fs as a
deployment reaches AWS or MinIO (AWS_ENDPOINT_URL_S3 and keys in the environment).

A pytest plugin (`-p s3` in pyproject's addopts): its fixtures serve every test directory.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

BUCKET = "sintonia-test"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """The server's environment: what a process sets to use it (children inherit it)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        import s3fs

        s3fs.S3FileSystem(skip_instance_cache=True).mkdir(BUCKET)
        yield env
    server.stop()


@pytest.fixture
def s3_url(s3_server: dict[str, str]) -> str:
    """A fresh, empty prefix of the test bucket: s3://sintonia-test/<random>."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"
