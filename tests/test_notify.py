"""Notifications (issue 14): one outbox message per channel, written with the event that causes it (none for an
action that fails, no second one for an action retried); SMS through an HTTP gateway and e-mail over SMTP, retried
with the same key; in-app notices only for their owner; a new confirmation code for a pending sign-up."""
from __future__ import annotations

import json
import socketserver
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from engine.db import OutboxMessage
from engine.errors import Conflict, Forbidden, Invalid, TooManyAttempts
from engine.runtime import applicants, channels, notify, outbox
from engine.runtime.timers import fire_due
from tests.test_applicants import COMPANY as CO_SIGNUP, PERSON as P_SIGNUP, code_for, sign_up
from tests.test_catalogue_walk import Clerks, verify_all
from tests.test_time_limits import MONDAY, at, food
from tests.test_timers import Clock
from tests.walk import COMPANY, PERSON, Hall, add_hall_users, pickup_data
from web import create_app

EMAIL = "zhaoliu@example.cn"


def rows(services, case_id=None) -> list[OutboxMessage]:
    with services.read() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if case_id is not None:
            stmt = stmt.where(OutboxMessage.case_id == case_id)
        out = s.scalars(stmt).all()
        s.expunge_all()
        return out


def sent(services, case_id=None) -> list[tuple[str, str, str]]:
    """(event, channel, target) of every queued notification."""
    return [(json.loads(r.payload)["event"], r.kind, r.target) for r in rows(services, case_id)
            if "event" in json.loads(r.payload)]


@pytest.fixture
def hall(services):
    add_hall_users(services)
    notify.install(services)
    return Hall(services)


def test_each_event_writes_one_message_per_channel_with_its_action(hall):
    sv = hall.sv
    applicant = dict(PERSON, email=EMAIL)
    case = hall.apply("m_id_card_renew", applicant, {"renew_reason": "有效期满"}, provided=hall.full("m_id_card_renew"))
    phone = PERSON["phone"]
    assert sent(sv, case["id"]) == [("accepted", "sms", phone), ("accepted", "email", EMAIL)]  # no account: no inapp
    first = rows(sv, case["id"])[0]
    assert first.key == f"accepted:{case['id']}:3:sms" and first.status == "pending"
    text = json.loads(first.payload)["text"]
    assert case["number"] in text and "居民身份证换领" in text and PERSON["name"] in text and "已受理" in text

    review = hall.task(case, "review")
    before = len(rows(sv))
    with pytest.raises(Invalid):  # a failing action writes nothing
        hall.act(review, {"decision": "maybe", "opinion": "?"})
    with pytest.raises(Forbidden):  # someone of another department: refused, nothing queued
        hall.act(review, {"decision": "correct", "opinion": "补正", "corrections": ["照片"]}, who="tax1")
    assert len(rows(sv)) == before

    case = hall.act(review, {"decision": "correct", "opinion": "请补正", "corrections": ["照片不清晰", "户口簿首页"]})
    assert sent(sv, case["id"])[2:] == [("correction", "sms", phone), ("correction", "email", EMAIL)]
    assert "照片不清晰、户口簿首页" in json.loads(rows(sv, case["id"])[-1].payload)["text"]
    with pytest.raises(Conflict):  # the same completion again: no longer ready, nothing queued
        hall.act(review, {"decision": "correct", "opinion": "请补正", "corrections": ["照片不清晰"]})
    assert len(sent(sv, case["id"])) == 4

    case = hall.act(hall.task(case, "correction"), {"supplied": ["photo"]}, who="front")
    case = hall.decide_all(case["id"])
    assert [e for e, _, _ in sent(sv, case["id"])][4:] == ["decided", "decided"]
    assert "准予：居民身份证换领" in json.loads(rows(sv, case["id"])[-2].payload)["text"]
    case = hall.pickup(case, "express", tracking_no="SF1234567890")
    assert case["status"] == "completed"
    got = sent(sv, case["id"])
    assert [e for e, _, _ in got] == ["accepted"] * 2 + ["correction"] * 2 + ["decided"] * 2 + ["handed_out"] * 2
    last = json.loads(rows(sv, case["id"])[-2].payload)["text"]
    assert "快递" in last and "SF1234567890" in last and "梅山街道1号" in last
    assert len({r.key for r in rows(sv)}) == len(rows(sv))


def test_a_refusal_tells_everything_missing_and_an_idempotent_retry_queues_nothing(hall, services):
    sv = hall.sv
    case = hall.apply("m_food_permit", COMPANY, food(), provided=["licence"])
    (msg,) = [r for r in rows(sv, case["id"])]
    body = json.loads(msg.payload)
    assert body["event"] == "returned" and msg.target == COMPANY["phone"] and "一次性告知" in body["text"]
    assert all(name in body["text"] for name in case["notice"]["missing"])
    # the same request with the same Idempotency-Key returns the same case and queues no second message
    front = hall.actor("front")
    verdict = {"accepted": True, "materials": dict.fromkeys(hall.full("m_food_permit"), "provided")}
    one = sv.start_case(front, "m_food_permit", COMPANY, food(), channel="window", intake=verdict,
                        idempotency_key="k-1", request_hash="h")
    two = sv.start_case(front, "m_food_permit", COMPANY, food(), channel="window", intake=verdict,
                        idempotency_key="k-1", request_hash="h")
    assert one["id"] == two["id"]
    assert sent(sv, one["id"]) == [("accepted", "sms", COMPANY["phone"])]


def test_a_reminder_is_also_an_in_app_message_to_the_group(services):
    add_hall_users(services)
    notify.install(services)
    services.clock = Clock(MONDAY)
    h = Hall(services)
    case = h.apply("m_food_permit", COMPANY, food(), provided=h.full("m_food_permit"))
    services.clock.at = at(5, 9)
    assert fire_due(services) == 1
    (remind,) = [r for r in rows(services, case["id"]) if json.loads(r.payload)["event"] == "remind"]
    assert remind.kind == "inapp" and remind.target == "group:market"
    assert "催办" in json.loads(remind.payload)["text"] and case["number"] in json.loads(remind.payload)["text"]
    assert outbox.deliver_due(services, now=at(5, 10)) >= 1
    market = [n for n in notify.my_notices(services, services.actor("market1")) if n["event"] == "remind"]
    assert len(market) == 1 and market[0]["case_number"] == case["number"]
    assert [n for n in notify.my_notices(services, services.actor("tax1"))] == []
    assert outbox.deliver_due(services, now=at(5, 11)) == 0  # delivered once


# ---------------------------------------------------------------------- the channels
class Gateway(BaseHTTPRequestHandler):
    calls: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.calls.append({"key": self.headers.get("Idempotency-Key"), "auth": self.headers.get("Authorization"),
                           "body": json.loads(body)})
        self.send_response(503 if len(self.calls) == 1 else 200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def serve(server) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    return t


def test_sms_through_the_gateway_is_retried_with_the_same_key(hall):
    sv = hall.sv
    Gateway.calls = []
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    serve(server)
    try:
        senders = channels.senders_from_env({"ONEWINDOW_SMS_URL": f"http://127.0.0.1:{server.server_port}/sms",
                                             "ONEWINDOW_SMS_TOKEN": "tok"})
        case = hall.apply("m_id_card_renew", PERSON, {"renew_reason": "有效期满"}, provided=hall.full("m_id_card_renew"))
        now = sv.clock()
        assert outbox.deliver_due(sv, senders, now=now) == 0  # the gateway answers 503
        (row,) = rows(sv, case["id"])
        assert row.status == "pending" and "HTTP 503" in row.last_error
        assert outbox.deliver_due(sv, senders, now=now + timedelta(seconds=11)) == 1
        first, second = Gateway.calls
        assert first["key"] == second["key"] == f"accepted:{case['id']}:3:sms" and first["auth"] == "Bearer tok"
        assert second["body"]["to"] == PERSON["phone"] and "已受理" in second["body"]["text"]
        assert rows(sv, case["id"])[0].status == "delivered"
    finally:
        server.shutdown()
        server.server_close()


class Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to take a message (no extensions)."""

    mails: list = []

    def reply(self, line: str):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 test ESMTP")
        rcpt, data = [], None
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb == "MAIL":
                self.reply("250 ok")
            elif verb == "RCPT":
                rcpt.append(cmd.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                lines = []
                while True:
                    part = self.rfile.readline()
                    if part in (b".\r\n", b".\n", b""):
                        break
                    lines.append(part)
                data = b"".join(lines)
                self.mails.append({"to": rcpt, "data": data})
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def test_email_over_smtp(hall):
    import email
    from email import policy

    sv = hall.sv
    Smtp.mails = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    server.daemon_threads = True
    serve(server)
    try:
        senders = channels.senders_from_env({"ONEWINDOW_SMTP_HOST": "127.0.0.1",
                                             "ONEWINDOW_SMTP_PORT": str(server.server_address[1]),
                                             "ONEWINDOW_SMTP_FROM": "notice@hall.example.cn"})
        case = hall.apply("m_id_card_renew", dict(PERSON, email=EMAIL), {"renew_reason": "有效期满"},
                          provided=hall.full("m_id_card_renew"))
        assert outbox.deliver_due(sv, senders, now=sv.clock()) == 2  # the sms to the log, the e-mail over SMTP
        (mail,) = Smtp.mails
        assert mail["to"] == [EMAIL]
        msg = email.message_from_bytes(mail["data"], policy=policy.default)
        key = f"accepted:{case['id']}:3:email"
        assert msg["X-Onewindow-Key"] == key and msg["Message-ID"].endswith("@hall.example.cn>")
        assert "受理" in msg["Subject"] and case["number"] in msg.get_content()
        assert "has been accepted" in msg.get_content()
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- through the API
@pytest.fixture
def clerks(services, db_url):
    add_hall_users(services)
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                             "VALIDATE_RESPONSES": True})
    c = Clerks(app.test_client())
    c.sv = app.extensions["onewindow"]
    return c


def test_the_whole_online_path_tells_the_applicant_each_step(clerks, cli_env, db_url):
    hall = clerks
    me = sign_up(hall.client, cli_env, P_SIGNUP)
    other = sign_up(hall.client, cli_env, CO_SIGNUP)
    guide = hall.client.get("/api/v1/matters/m_id_card_renew", headers=me).json
    r = hall.client.post("/api/v1/me/cases", headers=me, json={
        "matter": "m_id_card_renew", "data": {"renew_reason": "有效期满"},
        "materials": [m["id"] for m in guide["materials"]]})
    assert r.status_code == 201, r.json
    case = r.json
    t = next(t for t in case["tasks"] if t["rule"] == "intake")
    hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"accepted": True,
                                                             "materials": {"old_id": "provided"}}})
    case = hall.get(f"/api/v1/cases/{case['id']}", user="admin")
    case = hall.act(case, "review", {"decision": "correct", "opinion": "补正", "corrections": ["照片不清晰"]})
    case = hall.get(f"/api/v1/cases/{case['id']}", user="admin")
    case = hall.act(case, "correction", {"supplied": ["photo"]})
    case = hall.get(f"/api/v1/cases/{case['id']}", user="admin")
    case = hall.act(case, "review", {"decision": "approve", "opinion": "同意"})
    case = hall.get(f"/api/v1/cases/{case['id']}", user="admin")
    case = hall.act(case, "pickup", pickup_data("express", "SF42"))
    assert case["status"] == "completed"

    assert hall.client.get("/api/v1/me/notices", headers=me).json == []  # not delivered yet: not visible
    outbox.deliver_due(hall.sv, now=hall.sv.clock() + timedelta(seconds=1))
    mine = hall.client.get("/api/v1/me/notices", headers=me).json
    assert [n["event"] for n in reversed(mine)] == ["accepted", "correction", "decided", "handed_out"]
    assert all(n["case_number"] == case["number"] and not n["read"] for n in mine)
    assert "SF42" in mine[0]["text"] and "照片不清晰" in mine[2]["text"]
    phone = P_SIGNUP["phone"]
    sms = [json.loads(r.payload)["event"] for r in rows(hall.sv) if r.target == phone and r.kind == "sms"
           and "event" in json.loads(r.payload)]
    assert sms == ["accepted", "correction", "decided", "handed_out"]
    # another applicant sees none of them and cannot mark them read
    assert hall.client.get("/api/v1/me/notices", headers=other).json == []
    assert hall.client.post(f"/api/v1/me/notices/{mine[0]['id']}/read", headers=other).status_code == 404
    r = hall.client.post(f"/api/v1/me/notices/{mine[0]['id']}/read", headers=me)
    assert r.status_code == 200 and r.json["read"]
    assert len(hall.client.get("/api/v1/me/notices?unread=true", headers=me).json) == 3
    assert hall.client.post("/api/v1/me/notices/read", headers=me).json == {"marked": 3}
    assert hall.client.post("/api/v1/me/notices/x/read", headers=me).status_code == 404
    # the page lists them
    with hall.client.session_transaction() as sess:
        sess["user"], sess["e"] = phone, 0
    html = hall.client.get("/me/notices").get_data(as_text=True)
    assert 'id="notices"' in html and case["number"] in html and "SF42" in html

    # a bad rating: its 回访 tells the applicant the finding and the measures
    r = hall.client.post(f"/api/v1/me/cases/{case['id']}/rating", headers=me, json={"level": 1})
    zg = hall.get(f"/api/v1/cases/{r.json['rectification_case']}", user="police1")
    for data in ({"substantiated": "yes", "finding": "排队时间过长属实"}, {"measures": "增开窗口"},
                 {"result": "satisfied", "remark": "电话回访"}):
        (t,) = zg["tasks"]
        zg = hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": data}, user="police1")
    outbox.deliver_due(hall.sv, now=hall.sv.clock() + timedelta(seconds=2))
    latest = hall.client.get("/api/v1/me/notices", headers=me).json[0]
    assert latest["event"] == "revisit" and "排队时间过长属实" in latest["text"] and "增开窗口" in latest["text"]
    assert hall.client.get("/api/v1/me/notices", headers=other).json == []
    out = verify_all(db_url)
    assert " 0 failed" in out


# ---------------------------------------------------------------------- a new confirmation code
def test_resend_voids_the_old_code_and_is_throttled(clerks, cli_env, services):
    client, phone = clerks.client, P_SIGNUP["phone"]
    assert client.post("/api/v1/applicants", json=P_SIGNUP).status_code == 201
    old = code_for(cli_env, phone)
    for _ in range(5):  # the old code voided by wrong tries
        client.post("/api/v1/applicants/verify", json={"phone": phone, "code": "999999" if old != "999999" else "0"})
    assert client.post("/api/v1/applicants/verify", json={"phone": phone, "code": old}).status_code == 429
    r = client.post("/api/v1/applicants/resend", json={"phone": phone})
    assert r.status_code == 202 and r.json["status"] == "queued"
    again = client.post("/api/v1/applicants/resend", json={"phone": phone})
    assert again.status_code == 429 and 0 < int(again.headers["Retry-After"]) <= 61
    new = code_for(cli_env, phone)
    assert client.post("/api/v1/applicants/verify", json={"phone": phone, "code": old}).status_code == 422 \
        or old == new
    assert client.post("/api/v1/applicants/verify", json={"phone": phone, "code": new}).status_code == 200
    # an unknown and a confirmed number get the same answer, and no code
    unknown = client.post("/api/v1/applicants/resend", json={"phone": "13700000001"})
    assert unknown.status_code == 202 and unknown.json == dict(r.json)
    assert client.post("/api/v1/applicants/resend", json={"phone": "1370000"}).status_code == 422
    assert not [m for m in outbox.listing(clerks.sv, target="13700000001")]


def test_resend_after_expiry_and_per_address_limit(services):
    services.clock = Clock(MONDAY)
    body = dict(P_SIGNUP)
    applicants.sign_up(services, body, "10.0.0.1")
    first = outbox.listing(services, target=body["phone"])[0]["payload"]["code"]
    services.clock.at = MONDAY + timedelta(minutes=20)  # expired
    with pytest.raises(Invalid):
        applicants.verify(services, body["phone"], first)
    applicants.resend(services, body["phone"], "10.0.0.1")
    code = outbox.listing(services, target=body["phone"])[0]["payload"]["code"]
    for i in range(applicants.RESENDS_PER_ADDRESS - 1):
        services.clock.at += timedelta(seconds=61)
        applicants.resend(services, f"1370000{i:04d}", "10.0.0.1")
    services.clock.at += timedelta(seconds=61)
    with pytest.raises(TooManyAttempts):
        applicants.resend(services, "13711112222", "10.0.0.1")
    assert applicants.verify(services, body["phone"], code)["status"] == "active"


def test_the_confirm_page_sends_a_new_code(clerks, cli_env):
    client, phone = clerks.client, P_SIGNUP["phone"]
    assert client.post("/api/v1/applicants", json=P_SIGNUP).status_code == 201
    old = code_for(cli_env, phone)
    html = client.get(f"/me/confirm?phone={phone}").get_data(as_text=True)
    assert 'id="resend"' in html and "重新发送验证码" in html
    with client.session_transaction() as sess:
        token = sess["csrf"]
    r = client.post("/me/resend", data={"phone": phone, "_csrf": token})
    assert r.status_code == 302 and "/me/confirm" in r.headers["Location"]
    assert "新的验证码已发送" in client.get(r.headers["Location"]).get_data(as_text=True)
    new = code_for(cli_env, phone)
    assert len(outbox.listing(clerks.sv, target=phone)) == 2
    r = client.post("/me/resend", data={"phone": phone, "_csrf": token}, follow_redirects=True)
    assert "过于频繁" in r.get_data(as_text=True)  # a minute has not passed
    assert client.post("/api/v1/applicants/verify", json={"phone": phone, "code": new}).status_code == 200
    assert old == new or client.post("/api/v1/applicants/verify",
                                      json={"phone": phone, "code": old}).status_code == 422


def test_an_applicant_who_gives_an_e_mail_gets_the_notices_there_too(clerks, cli_env):
    """The e-mail given at sign-up (optional, checked) goes into the applicant block of their online cases, so each
    notice is also queued by e-mail; the page asks for it too."""
    hall = clerks
    r = hall.client.post("/api/v1/applicants", json=dict(P_SIGNUP, email="not-an-address"))
    assert r.status_code == 422 and "email" in r.json["error"]["fields"]
    me = sign_up(hall.client, cli_env, dict(P_SIGNUP, email="zhao@example.cn"))
    guide = hall.client.get("/api/v1/matters/m_id_card_renew", headers=me).json
    r = hall.client.post("/api/v1/me/cases", headers=me, json={
        "matter": "m_id_card_renew", "data": {"renew_reason": "有效期满"},
        "materials": [m["id"] for m in guide["materials"]]})
    assert r.status_code == 201 and r.json["applicant"]["email"] == "zhao@example.cn", r.json
    t = next(t for t in r.json["tasks"] if t["rule"] == "intake")
    hall.post(f"/api/v1/tasks/{t['id']}/complete", {"data": {"accepted": True}})
    kinds = sorted((m.kind, m.target) for m in rows(hall.sv, r.json["id"]))
    assert kinds == [("email", "zhao@example.cn"), ("inapp", P_SIGNUP["phone"]), ("sms", P_SIGNUP["phone"])]
    html = hall.client.get("/me/signup").get_data(as_text=True)
    assert 'name="email"' in html and 'type="email"' in html
