"""审管联动: events go out to subscribed regulators through the outbox, signed and retried until a 2xx; findings come
back signed and revoke the certificate they name as an audited event that replays."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from engine.errors import Invalid
from engine.runtime import outbox, webhooks
from engine.window import findings
from tests.test_rules import hall  # noqa: F401 - fixture
from tests.walk import COMPANY, FIELDS, fit
from web import create_app
from web.cli import cli

SECRET = "regulator-secret-0123456789"
REG_SECRET = "market-bureau-secret-0123"


class Receiver:
    """A regulator's endpoint on a local port: answers 500 to the first `fail` posts, then 204; keeps every post."""

    def __init__(self, fail: int = 1):
        self.posts: list[dict] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append({"headers": dict(self.headers), "body": body})
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                else:
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def events(self) -> list[str]:
        return [json.loads(p["body"])["event"] for p in self.posts]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_until_done(services, rounds: int = 4) -> None:
    """Run the worker's delivery as time passes (each round past the back-off)."""
    now = datetime.now(timezone.utc)
    for n in range(rounds):
        outbox.deliver_due(services, now=now + timedelta(seconds=15 * n))


def seal_case(hall):  # noqa: F811
    """A 公章刻制备案 decided on the spot: a certificate issued, the case on to pickup."""
    case = hall.apply("m_seal", COMPANY, fit("f_seal", FIELDS), provided=["licence", "id_card"])
    return hall.act(hall.task(case, "on_spot"), {"decision": "approve", "opinion": "当场办结"}, who="front")


def test_an_issued_certificate_reaches_the_regulator_signed_after_a_failed_first_delivery(hall, receiver):  # noqa: F811
    services = hall.sv
    webhooks.subscribe(services, receiver.url, ["certificate_issued", "certificate_revoked"], SECRET)
    case = seal_case(hall)
    number = case["certificates"][0]["number"]
    (row,) = webhooks.deliveries(services, None)
    assert row["status"] == "pending" and row["event"] == "certificate_issued" and row["case"] == case["number"]

    now = datetime.now(timezone.utc)
    assert outbox.deliver_due(services, now=now) == 0  # the receiver answers 500
    (row,) = webhooks.deliveries(services, None)
    assert row["status"] == "pending" and row["attempts"] == 1 and "HTTP 500" in row["last_error"]
    assert outbox.deliver_due(services, now=now + timedelta(seconds=5)) == 0  # backing off: nothing sent
    assert len(receiver.posts) == 1
    assert outbox.deliver_due(services, now=now + timedelta(seconds=11)) == 1
    (row,) = webhooks.deliveries(services, None, status="delivered")
    assert row["attempts"] == 2

    first, second = receiver.posts
    assert first["body"] == second["body"]
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] == row["key"]
    assert second["headers"]["X-Onewindow-Signature"] == signed(second["body"])
    body = json.loads(second["body"])
    assert body["event"] == "certificate_issued" and body["data"]["number"] == number
    assert body["case"]["number"] == case["number"] and second["headers"]["X-Onewindow-Event"] == "certificate_issued"


def test_an_unsubscribed_event_is_not_queued_and_a_rolled_back_action_queues_nothing(hall, receiver):  # noqa: F811
    services = hall.sv
    webhooks.subscribe(services, receiver.url, ["certificate_revoked"], SECRET)
    seal_case(hall)
    assert webhooks.deliveries(services, None) == []  # issued and completed: nothing for this subscription
    with pytest.raises(RuntimeError):
        with services.uow() as s:
            webhooks.observe(s, type("C", (), {"id": None, "number": "X", "process_id": "m", "event_count": 1})(),
                             "case_completed", {}, datetime.now(timezone.utc), services.actor("admin"), "", None, None)
            raise RuntimeError("the action failed")
    assert webhooks.deliveries(services, None) == []


def test_subscriptions_and_regulators_are_checked(services):
    with pytest.raises(Invalid) as err:
        webhooks.subscribe(services, "ftp://x", ["certificate_eaten"], "short")
    assert set(err.value.fields) == {"url", "events"}
    with pytest.raises(Invalid):
        webhooks.subscribe(services, "https://regulator.example/hook", ["case_completed"], "short")
    with pytest.raises(Invalid):
        findings.add_regulator(services, "", REG_SECRET)


@pytest.fixture
def app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def post_finding(client, body: dict, regulator: str = "market_bureau", secret: str | None = REG_SECRET,
                 signature: str | None = None):
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Regulator": regulator}
    if signature is not None or secret is not None:
        headers["X-Onewindow-Signature"] = signature or signed(raw, secret)
    return client.post("/api/v1/regulator/findings", data=raw, headers=headers)


def test_a_regulator_finding_revokes_the_certificate_as_an_event_that_replays(hall, app, db_url, receiver):  # noqa: F811
    services = hall.sv
    runner = CliRunner()
    env = {"ONEWINDOW_DATABASE_URL": db_url}
    res = runner.invoke(cli, ["regulators", "add", "market_bureau", "--secret", REG_SECRET], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["webhooks", "add", receiver.url, "--events", "certificate_revoked", "--secret", SECRET],
                        env=env)
    assert res.exit_code == 0, res.output
    receiver.fail = 0
    case = seal_case(hall)
    number = case["certificates"][0]["number"]
    client = app.test_client()
    finding = {"certificate": number, "finding": "现场检查发现印章与备案不符", "action": "revoke"}

    assert post_finding(client, finding, secret=None).status_code == 401  # no signature
    assert post_finding(client, finding, secret="another-secret-0123456789").status_code == 401
    assert post_finding(client, finding, regulator="nobody").status_code == 401
    assert services.rules.certs.verify(number)["valid"]  # none of those changed anything

    r = post_finding(client, finding)
    assert r.status_code == 200, r.json
    assert r.json == {"certificate": number, "case": case["id"], "action": "revoke", "status": "revoked",
                      "replayed": False}
    again = post_finding(client, finding)
    assert again.status_code == 200 and again.json["replayed"] is True
    verdict = services.rules.certs.verify(number)
    assert not verdict["valid"] and "印章与备案不符" in verdict["certificate"]["revoke_reason"]
    revoked = [e for e in services.events(case["id"]) if e["type"] == "certificate_revoked"]
    assert len(revoked) == 1 and revoked[0]["actor"] == "regulator:market_bureau"
    payload = revoked[0]["payload"]
    assert payload["finding"] == finding["finding"] and payload["regulator"] == "market_bureau"

    unknown = post_finding(client, dict(finding, certificate="NOPE-1"))
    assert unknown.status_code == 404
    bad = post_finding(client, dict(finding, action="praise"))
    assert bad.status_code == 422

    deliver_until_done(services)
    assert receiver.events() == ["certificate_revoked"]
    assert json.loads(receiver.posts[0]["body"])["data"]["finding"] == finding["finding"]

    res = runner.invoke(cli, ["webhooks", "list", "--deliveries"], env=env)
    assert res.exit_code == 0 and "delivered" in res.output and "certificate_revoked" in res.output
    res = runner.invoke(cli, ["audit", "verify", "--all"], env=env)
    assert res.exit_code == 0, res.output


def test_deliveries_are_for_administrators(services, app, receiver):
    webhooks.subscribe(services, receiver.url, ["case_completed"], SECRET)
    client = app.test_client()

    def token(user):
        r = client.post("/api/v1/auth/token", json={"username": user, "password": "pw"})
        return {"Authorization": f"Bearer {r.json['token']}"}

    admin, front = token("admin"), token("front")
    r = client.get("/api/v1/webhooks/deliveries?status=pending", headers=admin)
    assert r.status_code == 200 and r.json == []
    assert client.get("/api/v1/webhooks/deliveries", headers=front).status_code == 403
    r = client.get("/api/v1/webhooks", headers=admin)
    assert r.status_code == 200 and r.json[0]["url"] == receiver.url and "secret" not in r.json[0]
    assert client.get("/api/v1/webhooks", headers=front).status_code == 403
