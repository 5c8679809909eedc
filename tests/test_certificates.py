"""E-certificates: issued on approval, sealed with Ed25519, verifiable offline, revocable."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.window.certificates import Certificate, public_pem, verify_document
from engine.errors import Conflict, Forbidden, NotFound
from engine.readmodels import intake_preview
from tests.test_rules import hall  # noqa: F401 - fixture
from tests.walk import COMPANY, FIELDS, fit


@pytest.fixture
def issued(hall):  # noqa: F811
    case = hall.apply("m_seal", COMPANY, fit("f_seal", FIELDS), provided=["licence", "id_card"])
    case = hall.act(hall.task(case, "on_spot"), {"decision": "approve", "opinion": "当场办结"}, who="front")
    hall.certs = hall.sv.rules.certs
    return hall, case["certificates"][0]


def test_issued_certificate_content(issued):
    hall, cert = issued
    c = cert["content"]
    assert c["holder"] == {"key": COMPANY["credit_code"], "name": COMPANY["name"]} and c["matter"] == "seal"
    assert c["number"] == cert["number"] and c["issued"] and c["name"] == "印章备案回执"
    assert len(cert["verify_code"]) == 12
    assert any(e["type"] == "certificate_issued" for e in hall.sv.events(cert["case_id"]))


def test_anyone_with_the_public_key_verifies_offline(issued):
    hall, cert = issued
    doc = {"content": cert["content"], "signature": cert["signature"]}
    assert verify_document(doc, hall.certs.public_key_pem)
    forged = json.loads(json.dumps(doc))
    forged["content"]["holder"]["name"] = "别人公司"
    assert not verify_document(forged, hall.certs.public_key_pem)
    assert not verify_document(doc, public_pem(Ed25519PrivateKey.generate()))


def test_verify_by_number_or_code_and_detect_tampering_in_storage(issued):
    hall, cert = issued
    assert hall.certs.verify(cert["number"])["valid"] and hall.certs.verify(cert["verify_code"])["valid"]
    with hall.sv.uow() as s:
        row = s.query(Certificate).filter_by(number=cert["number"]).one()
        row.content = row.content.replace(COMPANY["name"], "篡改公司")
    result = hall.certs.verify(cert["number"])
    assert not result["valid"] and not result["sealed"] and "篡改" in result["reason"]
    with pytest.raises(NotFound):
        hall.certs.verify("NOPE")


def test_only_admins_supervisors_and_regulators_revoke(issued, db_url):
    hall, cert = issued
    for clerk in ("market1", "front", "pickup1"):
        with pytest.raises(Forbidden):
            hall.certs.revoke(hall.actor(clerk), cert["number"], "想注销")
    from tests.test_web import csrf, login
    from web import create_app

    client = login(create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"}), "market1")
    r = client.post(f"/certificates/{cert['number']}/revoke",
                    data={"reason": "想注销", "_csrf": csrf(client, f"/cases/{cert['case_id']}")})
    assert r.status_code == 403  # the page asks the same service-layer rule
    assert hall.certs.verify(cert["number"])["valid"]
    hall.certs.revoke(hall.actor("super1"), cert["number"], "电子监察发现虚假材料")
    assert not hall.certs.verify(cert["number"])["valid"]


def test_revoke(issued):
    hall, cert = issued
    hall.certs.revoke(hall.actor("admin"), cert["number"], "企业申请注销")
    result = hall.certs.verify(cert["number"])
    assert not result["valid"] and result["sealed"] and result["reason"] == "证照已注销"
    with pytest.raises(Conflict):
        hall.certs.revoke(hall.actor("admin"), cert["number"], "again")
    assert any(e["type"] == "certificate_revoked" and e["payload"]["manual"] for e in hall.sv.events(cert["case_id"]))
    from engine.audit.verify import verify_ids

    assert [f.line() for f in verify_ids(hall.sv, [cert["case_id"]]) if not f.ok] == []  # a manual revocation replays
    # a revoked certificate no longer stands in for a material
    prep = intake_preview(hall.sv, "m_tax_invoice", COMPANY)
    assert {m["id"]: m["status"] for m in prep["materials"]}["licence"] == "needed"


def test_seal_key_persists(tmp_path):
    from engine.window.certificates import load_seal_key
    k1 = load_seal_key(tmp_path / "k.pem")
    k2 = load_seal_key(tmp_path / "k.pem")
    assert public_pem(k1) == public_pem(k2)


def test_processes_starting_together_share_one_seal_key(tmp_path):
    """Several gunicorn workers start at once: they must all seal with the same key."""
    import multiprocessing

    from cryptography.hazmat.primitives import serialization

    from engine.window.certificates import load_seal_key

    path = tmp_path / "seal.pem"
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        pems = pool.map(_public_pem_of, [str(path)] * 8)
    assert len(set(pems)) == 1
    assert load_seal_key(path).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode() == pems[0]


def _public_pem_of(path: str) -> str:
    from cryptography.hazmat.primitives import serialization

    from engine.window.certificates import load_seal_key

    return load_seal_key(path).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
