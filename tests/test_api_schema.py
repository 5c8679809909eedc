"""Schemathesis against a server this test starts: generated requests to every operation of the OpenAPI document
(valid and invalid ones), bounded; no answer may be a server error, and every answer must be one the document
declares (status, content type, body schema)."""
from __future__ import annotations

import threading

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,  # noqa: E402
                                               status_code_conformance)

from tests.conftest import USERS, make_services  # noqa: E402
from tests.walk import add_users  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25  # per operation: bounded, so `make test` stays quick


@pytest.fixture(scope="module")
def live(tmp_path_factory, catalogue):
    from werkzeug.serving import make_server

    from engine.db import Base, make_engine
    from tests.conftest import APPLICANT
    from web import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'api.db'}"
    Base.metadata.create_all(make_engine(url))
    services = make_services(url, catalogue)
    add_users(services, USERS)
    front = services.actor("front")
    for _ in range(3):  # something to read: cases with open tasks of several groups
        services.start_case(front, "sample_bundle", APPLICANT, {}, intake={"accepted": True})
    app = create_app(config={"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "s" * 40})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    token = app.test_client().post("/api/v1/auth/token", json={"username": "admin", "password": "pw"}).json["token"]
    yield base, token
    server.shutdown()
    thread.join(5)


def _document() -> dict:
    import web.api  # noqa: F401 - declares the operations the document is generated from
    from web.openapi import spec

    return spec()


schema = schemathesis.openapi.from_dict(_document())  # the very document the server serves (asserted below)


def test_the_server_serves_the_document_tested_here(live):
    import requests

    base, _ = live
    assert requests.get(f"{base}/api/v1/openapi.json", timeout=10).json() == _document()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case, live):
    base, token = live
    case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
