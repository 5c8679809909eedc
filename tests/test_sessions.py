"""Secrets and sessions: no built-in key, revocable tokens and sessions, throttled sign-in with the same work for
unknown users, `next=` only to local paths, security headers, secure cookies."""
from __future__ import annotations

import os
import re
import stat

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeTimedSerializer

from web import create_app
from web.auth import TOKEN_SALT
from web.cli import cli

KEY = "s" * 48


@pytest.fixture
def app(services, db_url):
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": KEY})


def csrf(client, path="/login") -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', client.get(path).text).group(1)


def sign_in(client, user="market1", password="pw", next_=None):
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"username": user, "password": password, "_csrf": csrf(client)})


def test_no_key_no_app_and_serve_refuses(db_url, monkeypatch, tmp_path):
    monkeypatch.delenv("ONEWINDOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("ONEWINDOW_SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    with pytest.raises(RuntimeError, match="no secret key"):
        create_app(config={"DATABASE_URL": db_url})
    execs = []
    monkeypatch.setattr(os, "execvp", lambda *a: execs.append(a))
    res = CliRunner().invoke(cli, ["serve"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert res.exit_code == 2 and "no secret key" in res.output and execs == []
    res = CliRunner().invoke(cli, ["secret", "init"])
    assert res.exit_code == 0 and "created" in res.output
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_text().strip()) >= 32
    assert "kept" in CliRunner().invoke(cli, ["secret", "init"]).output
    assert create_app(config={"DATABASE_URL": db_url}).config["SECRET_KEY"] == path.read_text().strip()
    CliRunner().invoke(cli, ["serve"], env={"ONEWINDOW_DATABASE_URL": db_url})
    assert execs, "with a key, serve starts gunicorn"


def test_a_token_signed_with_another_key_is_refused(app):
    client = app.test_client()
    for key in ("dev-only-change-me", "change-me", ""):
        forged = URLSafeTimedSerializer(key or "x", salt=TOKEN_SALT).dumps({"u": "admin", "e": 0})
        r = client.get("/api/v1/matters", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401


def test_logout_ends_the_session_everywhere_and_the_old_cookie_stops_working(app):
    first, second = app.test_client(), app.test_client()
    assert sign_in(first).status_code == 302 and sign_in(second).status_code == 302
    cookie = first.get_cookie("session").value
    token = app.test_client().post("/api/v1/auth/token", json={"username": "market1", "password": "pw"}).json["token"]
    assert first.get("/inbox/").status_code == 200
    first.post("/logout", data={"_csrf": csrf(first, "/inbox/")})
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/inbox/").status_code == 302  # the copied cookie no longer signs anyone in
    assert second.get("/inbox/").status_code == 302  # nor does the other session
    r = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401  # logout revokes the user's tokens too


@pytest.mark.parametrize("target", ["/%09/evil.com", "//evil.com", "https://evil.com/", "/\\evil.com", "javascript:x"])
def test_next_goes_only_to_local_paths(app, target):
    r = sign_in(app.test_client(), next_=target)
    assert r.status_code == 302 and r.location.endswith("/inbox/"), r.location
    ok = sign_in(app.test_client(), next_="/cases/1")
    assert ok.location.endswith("/cases/1")


def test_sign_in_is_throttled_per_user_and_costs_the_same_for_unknown_users(app, monkeypatch):
    import engine.runtime.signin as signin

    calls = []
    real = signin.check_password
    monkeypatch.setattr(signin, "check_password", lambda h, p: calls.append(h) or real(h, p))
    client = app.test_client()
    assert sign_in(client, "ghost", "x").status_code == 401 and len(calls) == 1  # a hash is checked all the same
    for _ in range(signin.PER_USER - 1):
        assert sign_in(client, "market1", "wrong").status_code == 401
    assert sign_in(client, "market1", "wrong").status_code == 401
    locked = sign_in(client, "market1", "pw")  # even the right password, while locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    r = app.test_client().post("/api/v1/auth/token", json={"username": "market1", "password": "pw"})
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts" and r.headers["Retry-After"]
    assert sign_in(app.test_client(), "tax1", "pw").status_code == 302  # other users are not locked out


def test_security_headers_and_secure_cookies(services, db_url, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SECURE_COOKIES", "1")
    app = create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": KEY})
    client = app.test_client()
    for path in ("/login", "/api/v1/openapi.json"):
        h = client.get(path).headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"] and h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff"
    r = sign_in(client)
    assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]


def test_bodies_over_the_limit_answer_413(app):
    client = app.test_client()
    r = client.post("/api/v1/auth/token", data="x" * (3 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json["error"]
