"""The reviewer's desk and the papers: material files (upload, sniffing, limits, in the events, checked by verify),
GET /api/v1/tasks/{id}, the documents of a case (sealed, listed, printed with an embedded CJK font, verified in
public), pickup's recipient and hand-over list, the e-archive."""
from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from engine.audit.verify import case_ids, verify_ids
from tests.walk import COMPANY, FIELDS, add_hall_users, pickup_data
from web import create_app
from web.cli import cli

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
START_UP = dict(FIELDS, registered_capital=100)


@pytest.fixture
def app(services, db_url):
    add_hall_users(services)
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def client(app):
    return app.test_client()


def auth(client, user: str) -> dict:
    r = client.post("/api/v1/auth/token", json={"username": user, "password": "pw"})
    return {"Authorization": f"Bearer {r.json['token']}"}


def upload(client, h, content: bytes, name: str = "scan.pdf"):
    return client.post("/api/v1/files", headers=h, data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def start(client, h, matter="b_start_up", materials=None, data=None, applicant=None, expect=201):
    r = client.post("/api/v1/cases", headers=h, json={
        "matter": matter, "applicant": applicant or COMPANY, "data": data or START_UP,
        "materials": materials if materials is not None else ["id_card", "articles", "lease"]})
    assert r.status_code == expect, r.json
    return r.json


def complete(client, user, task, data, expect=200):
    r = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=auth(client, user), json={"data": data})
    assert r.status_code == expect, r.json
    return r.json


def user_of(task):
    return {"front_desk": "front", "pickup": "pickup1"}.get(task["group"], f"{task['group']}1")


def decide_all(client, case, reject=()):
    while True:
        reviews = [t for t in case["tasks"] if t["rule"] == "review"]
        if not reviews:
            return case
        t = reviews[0]
        member = t["process_id"].removeprefix("rv_")
        case = complete(client, user_of(t), t, {"decision": "reject" if member in reject else "approve",
                                                "opinion": f"{member} 审查意见"})


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def fonts_of(data: bytes) -> list[tuple[str, bool]]:
    """(font name, embedded?) of every font the PDF's pages use."""
    out = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            desc = font.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            out.append((str(font.get("/BaseFont")), any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))))
    return out


# ---------------------------------------------------------------- files
def test_upload_sniffs_the_content_and_refuses_disguises_and_oversize(client, monkeypatch):
    h = auth(client, "front")
    r = upload(client, h, PDF, "章程.pdf")
    assert r.status_code == 201
    assert r.json == {"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF), "content_type": "application/pdf",
                      "name": "章程.pdf"}
    assert upload(client, h, PDF, "again.pdf").json["sha256"] == r.json["sha256"]  # content-addressed
    assert upload(client, h, PNG, "photo.jpg").json["content_type"] == "image/png"  # the content decides, not the name
    for disguised in (b"MZ\x90\x00 an executable", b"<html><script>alert(1)</script>", b"GIF89a....."):
        r = upload(client, h, disguised, "scan.pdf")
        assert r.status_code == 422 and "file" in r.json["error"]["fields"], r.json
    r = client.post("/api/v1/files", headers=h, data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.json["error"]["fields"]
    monkeypatch.setenv("ONEWINDOW_MAX_FILE_MB", "0.001")  # about 1 KB
    r = upload(client, h, PDF + b"0" * 2000)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large" and "file" in r.json["error"]["fields"]
    r = upload(client, h, PDF + b"0" * 5_000_000)  # larger than the request the limit allows: still 413, named
    assert r.status_code == 413 and "file" in r.json["error"]["fields"]
    assert client.post("/api/v1/files", data={"file": (io.BytesIO(PDF), "x.pdf")}).status_code == 401


def test_files_go_into_the_case_its_events_and_back_out(app, client, services):
    h = auth(client, "front")
    sha = upload(client, h, PDF, "公司章程.pdf").json["sha256"]
    bad = start(client, h, materials={"id_card": "provided", "articles": {"status": "provided", "files": ["0" * 64]},
                                      "lease": "provided"}, expect=422)
    assert "files.articles[0]" in bad["error"]["fields"]  # a hash nobody uploaded
    bad = start(client, h, materials={"id_card": "provided", "articles": "provided",
                                      "lease": {"status": "deferred", "files": [sha]}}, expect=422)
    assert "files.lease" in bad["error"]["fields"]  # files go with a material handed in
    bad = start(client, h, materials={"articles": {"status": "maybe"}}, expect=422)
    assert "materials.articles" in bad["error"]["fields"]
    case = start(client, h, materials={"id_card": "provided", "articles": {"status": "provided", "files": [sha]},
                                       "lease": "provided"})
    events = client.get(f"/api/v1/cases/{case['id']}/events", headers=h).json
    intake = next(e for e in events if e["type"] == "task_completed" and e["payload"].get("rule") == "intake")
    assert intake["payload"]["data"]["files"] == {"articles": [sha]}  # the hash is in the chain
    assert intake["payload"]["context"]["files"][sha]["name"] == "公司章程.pdf"
    r = client.get(f"/api/v1/cases/{case['id']}/files/{sha}", headers=auth(client, "market1"))
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    other = upload(client, h, PNG).json["sha256"]  # uploaded, but not a file of this case
    assert client.get(f"/api/v1/cases/{case['id']}/files/{other}", headers=h).status_code == 404
    assert client.get(f"/api/v1/cases/999/files/{sha}", headers=h).status_code == 404
    assert [f.kind for f in verify_ids(services, case_ids(services))] == ["ok"]

    # verify covers the bytes: an altered file (or a missing one) fails the case, naming the file
    files = services.rules.files
    path = files.storage._path(sha)
    path.write_bytes(PDF + b"tampered")
    (finding,) = verify_ids(services, [case["id"]])
    assert finding.kind == "replay" and "公司章程.pdf" in finding.detail and "altered" in finding.detail
    path.unlink()
    (finding,) = verify_ids(services, [case["id"]])
    assert "missing" in finding.detail


# ---------------------------------------------------------------- the reviewer's desk
def test_the_reviewer_sees_the_application_materials_opinions_and_what_they_decide(client, services):
    h = auth(client, "front")
    sha = upload(client, h, PDF, "章程.pdf").json["sha256"]
    case = start(client, h, materials={"id_card": "provided", "articles": {"status": "provided", "files": [sha]},
                                       "lease": "deferred"})
    market = auth(client, "market1")
    task = next(t for t in client.get("/api/v1/tasks", headers=market).json["items"] if t["case_id"] == case["id"])
    desk = client.get(f"/api/v1/tasks/{task['id']}", headers=market).json
    labels = {r["label"]: r["display"] for r in desk["application"]}
    assert labels["申请人名称"] == "梅山味道餐饮有限公司" and labels["注册资本（万元）"] == "100"
    assert labels["住所（经营场所）"] == "梅山街道1号" and "company_name" not in labels
    mats = {m["id"]: m for m in desk["materials"]}
    assert mats["articles"]["status"] == "provided" and mats["articles"]["files"][0]["name"] == "章程.pdf"
    assert mats["articles"]["files"][0]["url"] == f"/api/v1/cases/{case['id']}/files/{sha}"
    assert mats["lease"]["status"] == "deferred" and desk["owed"][0]["id"] == "lease" and desk["owed"][0]["deadline"]
    assert mats["id_card"]["status"] == "provided"
    assert desk["decides"]["member"] == "company_reg" and desk["decides"]["level"] == 1
    assert desk["decides"]["levels"] == 2 and {o["value"] for o in desk["decides"]["options"]} == {
        "approve", "reject", "correct"}
    complete(client, "market1", task, {"decision": "approve", "opinion": "承办：材料齐全"})
    lead = auth(client, "market_lead1")
    task = next(t for t in client.get("/api/v1/tasks", headers=lead).json["items"] if t["case_id"] == case["id"])
    desk = client.get(f"/api/v1/tasks/{task['id']}", headers=lead).json
    assert desk["decides"]["level"] == 2 and desk["decides"]["level_name"] == "审核"
    (op,) = [o for o in desk["opinions"] if o["rule"] == "review"]
    assert op["opinion"] == "承办：材料齐全" and op["level"] == 1 and op["actor"] == "market1" and op["at"]
    r = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "tax1"))
    assert r.status_code == 403  # not their group's task
    assert client.get("/api/v1/tasks/no-such-task", headers=lead).status_code == 404


def test_the_task_page_shows_the_application_and_opens_the_file(app, client, services):
    from tests.test_one_path import Web

    h = auth(client, "front")
    sha = upload(client, h, PDF, "章程.pdf").json["sha256"]
    case = start(client, h, materials={"id_card": "provided", "articles": {"status": "provided", "files": [sha]},
                                       "lease": "provided"})
    web = Web(app)
    market = web._c("market1")
    task = next(t for t in services.case_view(case["id"])["tasks"] if t["rule"] == "review")
    page = market.get(f"/inbox/tasks/{task['id']}").get_data(as_text=True)
    assert 'id="application"' in page and "申请人名称" in page and "梅山味道餐饮有限公司" in page
    assert 'id="materials"' in page and "章程.pdf" in page and "第 1 / 2 级" in page
    link = re.search(r'href="(/cases/\d+/files/[0-9a-f]{64})"', page).group(1)
    r = market.get(link)
    assert r.status_code == 200 and r.data == PDF


# ---------------------------------------------------------------- documents
def test_every_document_is_issued_sealed_listed_and_verified_in_public(app, client, services):
    h = auth(client, "front")
    case = start(client, h, materials={"id_card": "provided", "articles": "provided", "lease": "deferred"})
    case = decide_all(client, case, reject={"tax_invoice"})
    kinds = [d["kind"] for d in case["documents"]]
    assert kinds[0] == "receipt" and kinds.count("rejection") == 1
    assert "approval" not in kinds and case["certificates"] == []  # an approval waits until nothing is owed
    supply = next(t for t in case["tasks"] if t["rule"] == "supply")
    case = complete(client, "front", supply, {"supplied": ["lease"]})
    kinds = [d["kind"] for d in case["documents"]]
    assert kinds.count("approval") == 4 and len(case["certificates"]) == 4
    cert = case["certificates"][0]
    assert cert["status"] == "valid" and cert["verify_url"].endswith(f"/verify/{cert['number']}")
    assert set(cert) >= {"number", "type", "name", "status", "verify_url"}
    public = app.test_client()
    page = public.get(f"/verify/{cert['number']}")
    assert page.status_code == 200 and "电子印章校验通过" in page.text and "证照状态有效" in page.text
    assert COMPANY["credit_code"] not in page.text  # the public page masks the holder's code
    for d in case["documents"]:
        page = public.get(d["verify_url"].split("localhost", 1)[-1])
        assert page.status_code == 200 and d["title"] in page.text and "有效" in page.text
    # a manual revocation is audited and shows on the verification page
    services.rules.certs.revoke(services.actor("admin"), cert["number"], "法院判决撤销")
    page = public.get(f"/verify/{cert['number']}")
    assert "已注销" in page.text and "法院判决撤销" in page.text
    # a document altered in the database no longer carries the seal, and verify names it
    from engine.window.documents import Document

    with services.uow() as s:
        row = s.query(Document).filter_by(number=case["documents"][0]["number"]).one()
        row.content = row.content.replace("梅山味道", "别家")
    assert "印章校验失败" in public.get(f"/verify/{case['documents'][0]['number']}").text
    (finding,) = verify_ids(services, [case["id"]])
    assert finding.kind == "replay" and case["documents"][0]["number"] in finding.detail


def test_documents_print_with_an_embedded_cjk_font_and_render(client, services, tmp_path):
    """Every kind of document and a certificate: the text is there (no tofu, line breaks never printed), the font
    is embedded as a subset, and poppler renders each page."""
    from engine.printing.fonts import source_font

    if source_font() is None:
        pytest.skip("no CJK font on this machine (apt-get install fonts-noto-cjk): PDFs would not embed one")
    h = auth(client, "front")
    notice = start(client, h, matter="m_food_permit", data={k: FIELDS[k] for k in (
        "address", "contact_name")} | {"food_categories": ["热食类"]},
        materials={"licence": "provided"})
    refusal = client.post("/api/v1/cases", headers=h, json={
        "matter": "b_start_up", "applicant": COMPANY, "data": START_UP, "materials": [],
        "intake": {"accepted": False, "reason": "申请事项不属于本中心受理范围"}}).json
    case = start(client, h, matter="m_signboard", data={k: FIELDS[k] for k in (
        "address", "contact_name")} | {"sign_text": "梅山味道"},
        materials=["licence", "sign_design"])
    t = next(x for x in case["tasks"] if x["rule"] == "review")
    case = complete(client, "urban1", t, {"decision": "correct", "opinion": "效果图不清晰",
                                          "corrections": ["标注尺寸的效果图", "设置位置照片"]})
    t = next(x for x in case["tasks"] if x["rule"] == "correction")
    case = complete(client, "front", t, {"supplied": ["标注尺寸的效果图", "设置位置照片"]})
    case = decide_all(client, case, reject={"signboard"})
    approved = decide_all(client, start(client, h))
    papers = [(d["title"], d["pdf_url"]) for c in (notice, refusal, case, approved) for d in c["documents"]]
    papers += [(c["name"], c["pdf_url"]) for c in approved["certificates"][:1]]
    titles = {t for t, _ in papers}
    assert {"受理通知书", "一次性告知书", "不予受理决定书", "补正告知书", "准予许可决定书", "不予许可决定书",
            "营业执照"} <= titles, titles
    expect = {"一次性告知书": ["经营场所平面布局图", "一次性告知全部所缺材料"],
              "不予受理决定书": ["申请事项不属于本中心受理范围", "六十日内", "行政复议", "六个月内", "行政诉讼"],
              "补正告知书": ["标注尺寸的效果图", "设置位置照片", "效果图不清晰"],
              "不予许可决定书": ["城管局", "signboard 审查意见", "行政复议"],
              "受理通知书": ["承诺时限", "受理人", "结果领取"], "营业执照": ["梅山味道餐饮有限公司", "核验码"]}
    have_pdftoppm = shutil.which("pdftoppm") is not None
    for title, url in papers:
        r = client.get(url, headers=h)
        assert r.status_code == 200 and r.mimetype == "application/pdf", (title, r.status_code)
        text = pdf_text(r.data)
        flat = text.replace("\n", "")
        assert title in text and "\x00" not in text and "\ufffd" not in text and "☒" not in text, (title, text)
        for phrase in expect.get(title, []):
            assert phrase in flat, (title, phrase)
        assert "Case No" not in text
        fonts = fonts_of(r.data)
        assert fonts and all(embedded for _, embedded in fonts), (title, fonts)  # nothing left to the viewer
        if have_pdftoppm:
            pdf = tmp_path / "doc.pdf"
            pdf.write_bytes(r.data)
            subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
            png = sorted(tmp_path.glob("page*.png"))
            assert png and png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png[0].stat().st_size > 2000
            for p in png:
                p.unlink()
    if not have_pdftoppm:
        pytest.skip("pdftoppm (poppler-utils) is not installed; text and fonts were checked")


# ---------------------------------------------------------------- intake
def test_intake_page_shows_what_data_sharing_covers_and_confirms_a_notice(app, client, services):
    from tests.test_one_path import Web, _csrf

    h = auth(client, "front")
    first = decide_all(client, start(client, h, matter="m_company_reg", data={k: START_UP[k] for k in (
        "address", "contact_name", "id_number", "registered_capital")},
        materials=["id_card", "articles", "lease"]))
    licence = first["certificates"][0]["number"]
    front = Web(app)._c("front")
    form = {"_csrf": _csrf(front, "/frontdesk/matters/m_seal"), "a_type": "company", "a_name": COMPANY["name"],
            "a_id": COMPANY["credit_code"], "decision": "preview"}
    page = front.post("/frontdesk/matters/m_seal", data=form).get_data(as_text=True)
    # 免提交 before 受理: the licence from the certificate, the identity proof from the earlier case (same credit code)
    assert f"电子证照 {licence}" in page and f"办件 {first['number']} 已收取" in page
    assert 'id="shared-licence"' in page and 'id="shared-id_card"' in page


def test_a_correction_list_reaches_the_front_desk_as_a_checklist(app, client, services):
    from tests.test_one_path import Web, _csrf

    h = auth(client, "front")
    case = start(client, h, matter="m_signboard", data={k: FIELDS[k] for k in (
        "address", "contact_name")} | {"sign_text": "梅山味道"},
        materials=["licence", "sign_design"])
    t = next(x for x in case["tasks"] if x["rule"] == "review")
    case = complete(client, "urban1", t, {"decision": "correct", "opinion": "补正",
                                          "corrections": ["标注尺寸的效果图", "设置位置照片"]})
    assert [d["kind"] for d in case["documents"]] == ["receipt", "correction"]
    t = next(x for x in case["tasks"] if x["rule"] == "correction")
    front = Web(app)._c("front")
    page = front.get(f"/inbox/tasks/{t['id']}").get_data(as_text=True)
    assert 'value="标注尺寸的效果图"' in page and 'value="设置位置照片"' in page and 'type="checkbox"' in page
    r = front.post(f"/inbox/tasks/{t['id']}", data={
        "_csrf": _csrf(front, f"/inbox/tasks/{t['id']}"), "f_supplied": ["标注尺寸的效果图", "设置位置照片"],
        "file_0": (io.BytesIO(PNG), "尺寸图.png")}, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    ledger_files = [e for e in services.events(case["id"]) if e["type"] == "task_completed"
                    and e["payload"].get("rule") == "correction"][0]["payload"]["data"]["files"]
    assert list(ledger_files) == ["标注尺寸的效果图"]
    assert [f.kind for f in verify_ids(services, [case["id"]])] == ["ok"]


# ---------------------------------------------------------------- pickup
def test_pickup_records_the_recipient_and_every_item_handed_over(client, services):
    h = auth(client, "front")
    case = decide_all(client, start(client, h), reject={"tax_invoice"})
    t = next(x for x in case["tasks"] if x["rule"] == "pickup")
    desk = client.get(f"/api/v1/tasks/{t['id']}", headers=auth(client, "pickup1")).json
    keys = [i["key"] for i in desk["handover"]]
    assert "decision:tax_invoice" in keys and "certificate:tax_invoice" not in keys
    assert {"certificate:company_reg", "decision:company_reg", "certificate:seal"} <= set(keys)
    complete(client, "pickup1", t, dict(pickup_data(), handed=keys[:-1]), expect=422)
    proxy = pickup_data()
    proxy["recipient"]["proxy"] = True
    r = client.post(f"/api/v1/tasks/{t['id']}/complete", headers=auth(client, "pickup1"), json={"data": proxy})
    assert r.status_code == 422 and "recipient.authorization" in r.json["error"]["fields"]
    proxy["recipient"]["authorization"] = True
    case = complete(client, "pickup1", t, dict(proxy, handed=keys))
    assert case["status"] == "completed"
    with services.case_view_tx(case["id"]) as tx:
        pickup = tx.wf.data["window"]["pickup"]
    assert pickup["recipient"]["proxy"] is True and pickup["handed"] == keys
    assert [f.kind for f in verify_ids(services, [case["id"]])] == ["ok"]


# ---------------------------------------------------------------- e-archive
def test_a_finished_case_exports_as_an_e_archive(client, services, db_url, tmp_path):
    h = auth(client, "front")
    sha = upload(client, h, PDF, "章程.pdf").json["sha256"]
    case = start(client, h, matter="m_company_reg", data={k: START_UP[k] for k in (
        "address", "contact_name", "id_number", "registered_capital")},
        materials={"id_card": "provided", "articles": {"status": "provided", "files": [sha]}, "lease": "provided"})
    env = {"ONEWINDOW_DATABASE_URL": db_url}
    out = tmp_path / "a.zip"
    res = CliRunner().invoke(cli, ["archive", case["number"], "--out", str(out)], env=env)
    assert res.exit_code == 1 and "only a finished case" in res.output  # still running
    case = decide_all(client, case)
    t = next(x for x in case["tasks"] if x["rule"] == "pickup")
    complete(client, "pickup1", t, pickup_data())
    res = CliRunner().invoke(cli, ["archive", case["number"], "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("manifest.json"))
        for entry in manifest["entries"]:
            assert hashlib.sha256(z.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]
        assert z.read(f"files/{sha}.pdf") == PDF
        events = json.loads(z.read("events.json"))
    kinds = {e["kind"] for e in manifest["entries"]}
    assert {"events", "document", "document-pdf", "certificate", "certificate-pdf", "file", "key"} <= kinds
    assert manifest["verified"]["ok"] and manifest["case"]["chain_head"] == events[-1]["hash"]
    assert [e["seq"] for e in manifest["events"]] == list(range(1, len(events) + 1))


def test_an_online_application_hands_in_files_at_its_start(client, services):
    """A matter applied for online only judges its intake at the start event: the files go with case_started."""
    from tests.walk import PERSON

    h = auth(client, "citizen1")  # online, an applicant applies for themself
    sha = upload(client, h, PNG, "身份证.png").json["sha256"]
    r = client.post("/api/v1/cases", headers=h, json={
        "matter": "m_unemp_benefit", "applicant": PERSON, "channel": "online",
        "data": {"insured_months": 30,
                 "leaving_reason": "contract_ended", "job_registered": True},
        "materials": {"id_card": {"status": "provided", "files": [sha]}}})
    assert r.status_code == 201, r.json
    started = client.get(f"/api/v1/cases/{r.json['id']}/events", headers=h).json[0]
    assert started["type"] == "case_started" and started["payload"]["intake"]["data"]["files"] == {"id_card": [sha]}
    assert started["payload"]["intake"]["context"]["files"][sha]["content_type"] == "image/png"
    assert client.get(f"/api/v1/cases/{r.json['id']}/files/{sha}", headers=h).data == PNG
    assert [f.kind for f in verify_ids(services, [r.json["id"]])] == ["ok"]


def test_the_auditor_downloads_the_e_archive_and_pages_read_in_english(app, client, services):
    from tests.test_one_path import Web

    h = auth(client, "front")
    case = decide_all(client, start(client, h))
    web = Web(app)
    auditor = web._c("audit1")
    assert auditor.get(f"/audit/cases/{case['id']}/archive.zip").status_code == 409  # not finished yet
    assert 'id="archive"' not in auditor.get(f"/audit/cases/{case['id']}").get_data(as_text=True)
    t = next(x for x in case["tasks"] if x["rule"] == "pickup")
    complete(client, "pickup1", t, pickup_data("express", "SF9"))
    page = auditor.get(f"/audit/cases/{case['id']}").get_data(as_text=True)
    assert 'id="archive"' in page
    r = auditor.get(f"/audit/cases/{case['id']}/archive.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        assert json.loads(z.read("manifest.json"))["verified"]["ok"]
    assert web._c("market1").get(f"/audit/cases/{case['id']}/archive.zip").status_code == 403
    english = web._c("market1").get(f"/cases/{case['id']}?lang=en").get_data(as_text=True)
    assert "Documents issued" not in english and "E-certificates" in english and "Verify" in english


@pytest.mark.parametrize("user", ["front", "market1", "tax1", "pickup1", "super1", "audit1", "admin", "citizen1",
                                  "nobody"])
def test_papers_follow_who_may_read_the_case(app, client, services, user):
    """A case's documents and files are read by those who may read the case (engine.runtime.access), anyone else is
    told there is no such thing; the reviewer's desk is for those who may work on the task."""
    from tests.conftest import APPLICANT
    from tests.test_one_path import Web

    sha = upload(client, auth(client, "front"), PDF).json["sha256"]
    case = services.start_case(services.actor("front"), "sample_matter", APPLICANT, {},
                               intake={"accepted": True, "materials": {}, "files": {}})
    receipt = services.case_view(case["id"])["documents"][0]["number"]
    task = case["tasks"][0]
    readers = {"front", "market1", "super1", "audit1", "admin"}
    h = auth(client, user)
    want = 200 if user in readers else 404
    assert client.get(f"/api/v1/documents/{receipt}.pdf", headers=h).status_code == want
    assert Web(app)._c(user).get(f"/documents/{receipt}.pdf").status_code == want
    assert client.get(f"/api/v1/cases/{case['id']}/files/{sha}", headers=h).status_code == 404  # not this case's
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=h).status_code == (
        200 if user in ("market1", "admin") else 403)
