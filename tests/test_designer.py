"""The designer's page (group `designer`): processes and versions, diagrams, version diffs, running cases per version,
uploading BPMN files with their forms to check and deploy. Access is decided in engine.runtime.designer."""
from __future__ import annotations

import base64
import io
import re

import pytest
from sqlalchemy import func, select

from engine.db import ProcessVersion
from engine.errors import Forbidden
from engine.runtime.designer import Designer
from tests.conftest import APPLICANT
from tests.migration_models import kinds_bpmn, review_form, sub_bpmn, write_version
from tests.test_migration import case_at
from tests.test_web import csrf, login
from tests.helpers import deploy_files
from web import create_app

import json


@pytest.fixture
def app(services, db_url):
    services.add_user("designer1", "pw", ["designer"])
    return create_app(config={"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})


def deploy_version(services, tmp_path, version: str) -> int:
    procs, forms = write_version(tmp_path, version)
    return {pid: vid for pid, vid, _ in deploy_files(services, procs, forms)}["mig_kinds"]


def upload(client, files: dict[str, bytes]):
    data = {"_csrf": csrf(client, "/designer/upload"),
            "files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return client.post("/designer/upload", data=data, content_type="multipart/form-data")


def count_versions(services, pid: str) -> int:
    with services.uow() as s:
        return s.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_id == pid))


def v2_files() -> dict[str, bytes]:
    return {"mig_kinds.bpmn": kinds_bpmn("v2").encode(), "mig_sub.bpmn": sub_bpmn().encode(),
            "mig_review.json": json.dumps(review_form("v2"), ensure_ascii=False).encode()}


# ---------------------------------------------------------------- who may use it
def test_only_designers_and_admins_get_in_and_the_engine_decides(app, services):
    designer = login(app, "designer1")
    assert designer.get("/").location.endswith("/designer/")  # a designer lands on the desk
    assert designer.get("/designer/").status_code == 200
    assert login(app, "admin").get("/designer/").status_code == 200
    clerk = login(app, "market1")
    for path in ("/designer/", "/designer/upload", "/designer/processes/sample_matter"):
        r = clerk.get(path)
        assert r.status_code == 403 and "只有流程设计人员或管理员" in r.text, path
    r = clerk.post("/designer/deploy", data={"_csrf": csrf(clerk, "/inbox/"), "name": "x.bpmn", "data": "eA=="})
    assert r.status_code == 403
    assert app.test_client().get("/designer/").status_code == 302  # not signed in: to the login page
    with pytest.raises(Forbidden):  # the same answer without any web layer
        Designer(services).processes(services.actor("market1"))
    with pytest.raises(Forbidden):
        Designer(services).check_upload(services.actor("front"), v2_files())


# ---------------------------------------------------------------- processes, versions, diagrams, diffs
def test_processes_versions_diagram_diff_and_running_cases(app, services, tmp_path):
    v1 = deploy_version(services, tmp_path, "v1")
    waiting = case_at(services, "parallel branch")
    v2 = deploy_version(services, tmp_path, "v2")
    client = login(app, "designer1")
    r = client.get("/designer/")
    assert re.search(r'<tr data-process="mig_kinds">.*?<td>2</td><td>v%d</td>.*?<td>1</td></tr>' % v2, r.text)
    assert 'data-process="sample_bundle"' in r.text
    r = client.get("/designer/processes/mig_kinds")
    assert r.status_code == 200
    rows = re.findall(r'<tr data-version="(\d+)"', r.text)
    assert rows == [str(v2), str(v1)]
    assert re.search(r'data-version="%d">.*?<td>1</td><td>0</td><td>a ×1, wait ×1</td>' % v1, r.text)
    assert "<svg" in r.text and f"v{v1} → v{v2}" in r.text
    assert "<code>final</code> 复核" in r.text and "综合受理（新）" in r.text  # added task, renamed task
    assert "<code>mig_review</code> · 字段 <code>note</code>" in r.text  # the new form field
    r = client.get(f"/designer/processes/mig_kinds?v={v1}")
    assert waiting["number"] in r.text and "这是第一个版本" in r.text
    assert "无图形信息" in r.text  # these test files carry no diagram data
    services.start_case(services.actor("front"), "sample_matter", APPLICANT, {})
    r = client.get("/designer/processes/sample_matter")  # where cases wait is highlighted in the diagram
    assert '<g class="shape activity userTask active" data-element-id="intake">' in r.text
    r = client.get("/designer/processes/mig_kinds?lang=en")
    assert "Process design" in r.text and "Changes" in r.text
    assert client.get("/designer/processes/no_such").status_code == 404
    assert client.get("/designer/processes/mig_kinds?v=99999").status_code == 404


# ---------------------------------------------------------------- upload, check, deploy
def test_upload_checks_previews_and_deploys(app, services, tmp_path):
    v1 = deploy_version(services, tmp_path, "v1")
    case_at(services, "user task")
    client = login(app, "designer1")
    r = upload(client, v2_files())
    assert r.status_code == 200, r.text
    assert "检查通过" in r.text and 'data-process="mig_kinds"' in r.text
    assert f"新版本（对比 v{v1}）" in r.text and "<code>final</code>" in r.text
    assert f"v{v1}: 1 · intake ×1" in r.text  # running cases on the older version and where they wait
    assert count_versions(services, "mig_kinds") == 1  # checking deploys nothing
    token = csrf(client, "/designer/upload")
    names = re.findall(r'name="name" value="([^"]+)"', r.text)
    blobs = re.findall(r'name="data" value="([^"]+)"', r.text)
    r = client.post("/designer/deploy", data={"_csrf": token, "name": names, "data": blobs})
    assert r.status_code == 302 and r.location.endswith("/designer/processes/mig_kinds")
    assert count_versions(services, "mig_kinds") == 2
    page = client.get(r.location).text
    assert "已部署新版本" in page and "designer1" in page  # who deployed it


def test_an_upload_with_errors_is_located_and_never_deployed(app, services):
    bad = kinds_bpmn("v2").replace('targetRef="final"', 'targetRef="nowhere"').encode()
    client = login(app, "designer1")
    r = upload(client, {"mig_kinds.bpmn": bad, "mig_sub.bpmn": sub_bpmn().encode(),
                        "mig_review.json": v2_files()["mig_review.json"]})
    assert r.status_code == 422
    line = bad.decode()[: bad.decode().index('id="f_emb_final"')].count("\n") + 1
    assert re.search(r'<tr class="error"><td class="bad">错误</td><td>mig_kinds.bpmn</td><td>%d</td>'
                     r'<td><code>f_emb_final</code></td><td>sequence flow targetRef &#39;nowhere&#39;' % line, r.text)
    assert "targetRef=&#34;nowhere&#34;" in r.text  # the source line is shown, escaped
    assert 'name="data"' not in r.text  # no deploy button
    # posting the files to deploy anyway: checked again, refused, nothing written
    files = {"mig_kinds.bpmn": bad, "mig_sub.bpmn": sub_bpmn().encode()}
    r = client.post("/designer/deploy", data={"_csrf": csrf(client, "/designer/upload"), "name": list(files),
                                              "data": [base64.b64encode(v).decode() for v in files.values()]})
    assert r.status_code == 422 and "上传的文件有错误，未部署" in r.text
    assert count_versions(services, "mig_kinds") == 0


@pytest.mark.parametrize("files, message", [
    ({}, "没有上传文件"),
    ({"notes.txt": b"hello"}, "上传的文件不能接受"),
    ({"empty.bpmn": b""}, "上传的文件不能接受"),
])
def test_bad_uploads_are_refused_clearly(app, services, files, message):
    client = login(app, "designer1")
    r = upload(client, files)
    assert r.status_code == 422 and message in r.text and "Traceback" not in r.text


def test_unsafe_xml_and_damaged_deploy_forms_are_refused(app, services):
    client = login(app, "designer1")
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')
    r = upload(client, {"xxe.bpmn": xxe})
    assert r.status_code == 422 and "DOCTYPE/ENTITY declarations are not allowed" in r.text and "root:" not in r.text
    token = csrf(client, "/designer/upload")
    r = client.post("/designer/deploy", data={"_csrf": token, "name": ["a.bpmn"], "data": ["***not base64***"]})
    assert r.status_code == 422 and "文件内容已损坏" in r.text
    r = client.post("/designer/deploy", data={"_csrf": token, "name": ["a.bpmn", "b.bpmn"], "data": ["eA=="]})
    assert r.status_code == 422
    r = client.post("/designer/deploy", data={"name": ["a.bpmn"], "data": ["eA=="]})  # no CSRF token
    assert r.status_code == 400


def test_names_in_an_upload_are_escaped(app, services, tmp_path):
    deploy_version(services, tmp_path, "v1")  # so that the preview shows the new element by name
    evil = kinds_bpmn("v2").replace('name="复核"', 'name="&lt;script&gt;alert(1)&lt;/script&gt;"').encode()
    files = dict(v2_files(), **{"mig_kinds.bpmn": evil})
    r = upload(login(app, "designer1"), files)
    assert r.status_code == 200 and "<script>alert(1)" not in r.text and "&lt;script&gt;alert(1)" in r.text


def test_uploading_a_decision_table_previews_the_processes_that_use_it(app, services):
    from pathlib import Path

    dmn = (Path(__file__).resolve().parent.parent / "processes" / "unemp_rules.dmn").read_bytes()
    changed = dmn.replace("缴费不满一年".encode(), "缴费不满十二个月".encode())
    assert changed != dmn
    client = login(app, "designer1")
    r = upload(client, {"unemp_rules.dmn": changed})
    assert r.status_code == 200, r.text
    assert 'data-process="m_unemp_benefit"' in r.text and "<code>unemp_rules.dmn</code>" in r.text
    assert re.findall(r'<div class="card" data-process="([^"]+)"', r.text) == ["m_unemp_benefit"]
