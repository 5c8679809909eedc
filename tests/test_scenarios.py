"""Scenario tests for diagrams: `onewindow test` passes on the whole catalogue, and its reports of a failure (the
step that diverged, expected vs actual), of a malformed file (file and key) and its exit codes are what a designer
reads."""
from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.audit.verify import Finding
from engine.model.catalogue import PROCESSES_DIR
from engine.model.scenarios import ScenarioFileError, load_file
from engine.scenario_run import run_paths
from web.cli import cli

SEAL_START = """
    start:
      applicant: {type: company, name: 梅山味道餐饮有限公司, credit_code: 91330206MA2H00001K, phone: "13800000000"}
      data: {company_name: 梅山味道餐饮有限公司, address: 梅山街道1号, contact_name: 李四, contact_phone: "13800000000"}
      intake: {accepted: true, materials: [licence, id_card]}
"""


def scenario_file(directory: Path, process: str, body: str, start: str = SEAL_START) -> Path:
    """A scenario file with one scenario: `start` then `body` (steps and expect), indented as YAML wants."""
    path = directory / f"{process}.scenarios.yaml"
    path.write_text(f"process: {process}\nscenarios:\n  - name: under test\n"
                    + textwrap.indent(textwrap.dedent(start).strip("\n"), "    ") + "\n"
                    + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n", encoding="utf-8")
    return path


def run_cli(*args):
    return CliRunner().invoke(cli, ["test", *map(str, args)])


@pytest.mark.skipif(os.environ.get("ONEWINDOW_TEST_BACKEND") == "postgres",
                    reason="scenarios run on their own throw-away SQLite databases whatever the backend; the SQLite "
                           "pass of `make test` runs them")
def test_every_scenario_of_the_catalogue_passes():
    res = run_cli()
    assert res.exit_code == 0, res.output
    found = re.search(r"(\d+) scenario\(s\): (\d+) passed, 0 failed", res.output)
    assert found and found.group(1) == found.group(2) and int(found.group(1)) >= 150, res.output
    assert "FAIL" not in res.output and "ERROR" not in res.output


def test_every_matter_and_bundle_has_a_scenario_per_outcome():
    tops = sorted(p.stem for p in PROCESSES_DIR.glob("*.bpmn") if p.stem.startswith(("m_", "b_", "sample_")))
    assert len(tops) == 33  # 25 matters, 6 bundles, 2 samples
    for pid in tops:
        path = PROCESSES_DIR / f"{pid}.scenarios.yaml"
        assert path.exists(), f"{pid} has no scenarios"
        scenarios = load_file(path)
        assert all(sc.process == pid for sc in scenarios)
        outcomes = {st for sc in scenarios for st in (sc.expect.outcomes or {}).values()}
        assert {"approved", "rejected"} <= outcomes, (pid, outcomes)
        names = {sc.name for sc in scenarios}
        if pid != "m_unemp_benefit":  # applied for online only: no front desk to refuse it
            assert "refused at intake" in names, pid
    names = lambda pid: {sc.name for sc in load_file(PROCESSES_DIR / f"{pid}.scenarios.yaml")}  # noqa: E731
    assert {"告知承诺, post check ok", "告知承诺, post check violation", "容缺 then 补齐", "补正 once, then approved",
            "一次性告知"} <= names("m_food_permit")
    assert "超时默认" in names("m_water_transfer")
    assert "joint inspection failed" in names("b_restaurant")
    assert {"chose nothing", "chose food_permit"} <= names("b_joint")
    assert {"秒批 approved", "秒批 rejected", "manual review approved"} <= names("m_unemp_benefit")


def test_the_generated_scenario_files_are_what_the_generator_writes():
    from tools.scenarios import files

    for name, text in files().items():
        assert (PROCESSES_DIR / name).read_text(encoding="utf-8") == text, f"{name}: run python -m tools.scenarios"


def test_a_wrong_expected_outcome_fails_naming_expected_and_actual(tmp_path):
    scenario_file(tmp_path, "m_seal", """
        steps:
          - {task: onsite, group: front_desk, data: {decision: approve, opinion: 同意}}
        expect:
          status: completed
          outcomes: {seal: rejected}
          certificates: []
          path: [intake, onsite]
          events: [certificate_revoked]
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 1, res.output
    assert f"FAIL {tmp_path}/m_seal.scenarios.yaml::under test" in res.output
    assert 'expect.outcomes: expected {"seal": "rejected"}, got {"seal": "approved"}' in res.output
    assert 'expect.certificates: expected [], got ["seal_filing"]' in res.output
    assert 'expect.events: missing ["certificate_revoked"]' in res.output
    assert "expect.path" not in res.output and "expect.status" not in res.output  # what matched is not reported
    assert "1 scenario(s): 0 passed, 1 failed" in res.output


def test_a_step_that_diverges_is_named_with_the_open_tasks(tmp_path):
    scenario_file(tmp_path, "m_company_reg", """
        steps:
          - {task: review, process: rv_company_reg, group: market, data: {decision: approve, opinion: 同意}}
          - {task: review_approve, process: rv_company_reg, group: market_head, data: {decision: approve, opinion: 同意}}
          - {task: pickup, group: pickup, data: {method: window, recipient: {name: 王五, id_number: "330206198505050022"}}}
        expect:
          status: completed
    """, start="""
        start:
          applicant: {type: company, name: 梅山味道餐饮有限公司, credit_code: 91330206MA2H00001K, phone: "13800000000"}
          data: {company_name: 梅山味道餐饮有限公司, address: 梅山街道1号, contact_name: 李四, contact_phone: "13800000000",
                 id_number: "330206199001010013", registered_capital: 100}
          intake: {accepted: true, materials: [id_card, articles, lease]}
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 1, res.output
    assert ("step 2 (task rv_company_reg.review_approve as market_head): task rv_company_reg.review_approve not open; "
            "open tasks: rv_company_reg.review_check [market_lead]") in res.output
    assert 'expect.status: expected "completed", got "running"' in res.output
    assert "step 3" not in res.output  # the scenario stops where it diverged


def test_refusals_expected_and_not(tmp_path):
    scenario_file(tmp_path, "m_seal", """
        steps:
          - {task: onsite, group: front_desk, data: {decision: approve}}
        expect: {status: completed}
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 1
    assert "step 1 (task onsite as front_desk): refused: 422 invalid:" in res.output and "opinion" in res.output

    scenario_file(tmp_path, "m_seal", """
        steps:
          - {task: onsite, group: front_desk, data: {decision: approve, opinion: 同意}, refused: {status: 403}}
        expect: {status: completed}
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 1
    assert "step 1 (task onsite as front_desk): expected a refusal (403), but the task was completed" in res.output

    scenario_file(tmp_path, "m_seal", """
        steps:
          - {task: onsite, group: tax, data: {decision: approve, opinion: 同意}, refused: {status: Invalid}}
        expect: {status: running}
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 1
    assert "step 1 (task onsite as tax): expected a refusal 422, got 403 forbidden" in res.output

    scenario_file(tmp_path, "m_seal", """
        steps:
          - {task: onsite, group: front_desk, data: {decision: maybe, opinion: 同意}, refused: {status: 422, fields: [decision]}}
          - {task: onsite, group: tax, data: {decision: approve, opinion: 同意}, refused: {status: Forbidden}}
          - {task: onsite, user: front9, group: front_desk, data: {decision: approve, opinion: 同意}}
        expect: {status: completed, path: [intake, onsite], open: []}
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 0, res.output


def test_a_refused_start(tmp_path):
    scenario_file(tmp_path, "m_seal", "expect: {}", start="""
        start:
          applicant: {type: company, name: 梅山味道餐饮有限公司, credit_code: "123", phone: "13800000000"}
          data: {company_name: 梅山味道餐饮有限公司, address: 梅山街道1号, contact_name: 李四, contact_phone: "13800000000"}
          refused: {status: 422, fields: [applicant.credit_code]}
    """)
    res = run_cli(tmp_path)
    assert res.exit_code == 0, res.output


def test_a_malformed_file_is_reported_with_file_and_key_and_the_others_still_run(tmp_path):
    bad = tmp_path / "m_seal.scenarios.yaml"
    bad.write_text(textwrap.dedent("""
        scenarios:
          - name: one
            start: {applicant: {type: company}, colour: red}
            steps:
              - {task: onsite, data: {}}
              - {wait: 40 days}
              - {task: onsite, group: front_desk, refused: {status: teapot}}
            expect: {status: done, outcomes: {seal: fine}, path: approved}
          - name: one
            expect: {}
    """), encoding="utf-8")
    broken = tmp_path / "m_tax_invoice.scenarios.yaml"
    broken.write_text("scenarios:\n  - name: x\n    start: {applicant: [unclosed\n", encoding="utf-8")
    scenario_file(tmp_path, "m_fund_reg", """
        steps: []
        expect: {status: running, open: [rv_fund_reg.review]}
    """)
    with pytest.raises(ScenarioFileError) as err:
        load_file(bad)
    problems = dict(err.value.problems)
    assert problems["scenarios[0].start.colour"].startswith("unknown key")
    assert problems["scenarios[0].steps[0].group"] == "missing (the group acting, or the user)"
    assert problems["scenarios[0].steps[1].wait"] == "must be a number of days as P<n>D, e.g. P40D"
    assert problems["scenarios[0].steps[2].refused.status"].startswith("must be an HTTP status")
    assert problems["scenarios[0].expect.status"] == "must be running or completed"
    assert problems["scenarios[0].expect.outcomes.seal"].startswith("must be one of")
    assert problems["scenarios[0].expect.path"] == "must be a list of names"
    assert problems["scenarios[1].start"] == "missing"
    assert problems["scenarios[1].name"] == "duplicate scenario name 'one'"

    res = run_cli(tmp_path)
    assert res.exit_code == 1
    assert f"ERROR {bad}: scenarios[0].start.colour: unknown key" in res.output
    assert f"ERROR {bad}: scenarios[0].steps[1].wait: must be a number of days as P<n>D" in res.output
    assert re.search(rf"ERROR {re.escape(str(broken))}: line \d+: not valid YAML: expected ','", res.output), res.output
    assert "1 scenario(s): 1 passed, 0 failed, 2 file(s) with errors" in res.output


def test_exit_codes_and_selection(tmp_path):
    assert run_cli(tmp_path).exit_code == 1  # no scenario files: nothing was tested
    assert "no scenario files" in run_cli(tmp_path).output
    res = run_cli("-v", "-k", "rejected on the spot", PROCESSES_DIR / "m_seal.bpmn")
    assert res.exit_code == 0, res.output
    assert "PASS processes/m_seal.scenarios.yaml::rejected on the spot" in res.output.replace(str(PROCESSES_DIR.parent) + "/", "")
    assert "1 scenario(s): 1 passed, 0 failed" in res.output


def test_each_scenario_ends_with_an_audit_verify_of_its_case(tmp_path, monkeypatch):
    import engine.audit.verify as verify

    def tampered(services, ids, replay_too=True):
        for cid in ids:
            yield Finding(cid, "OW1", "edited", 3, "hash does not match")
    monkeypatch.setattr(verify, "verify_ids", tampered)
    scenario_file(tmp_path, "m_seal", """
        steps: []
        expect: {status: running}
    """)
    report = run_paths([tmp_path])
    assert not report.ok
    assert report.results[0].failures == ["audit verify: OW1: edited: event #3: hash does not match"]


def test_a_designers_own_diagram_beside_its_scenarios(tmp_path):
    """A new diagram outside the catalogue is deployed from its folder before its scenarios run."""
    text = (PROCESSES_DIR / "sample_matter.bpmn").read_text(encoding="utf-8").replace("sample_matter", "my_matter")
    (tmp_path / "my_matter.bpmn").write_text(text, encoding="utf-8")
    scenario_file(tmp_path, "my_matter", """
        steps:
          - {task: dept_accept, group: market, data: {decision: reject, opinion: 不符合}}
          - {task: pickup, group: pickup, data: {method: window, recipient: {name: 王五, id_number: "330206198505050022"}}}
        expect: {status: completed, outcomes: {my_matter: rejected}, path: [intake, dept_accept, pickup]}
    """, start="""
        start:
          applicant: {type: company, name: 示例科技有限公司, credit_code: 91330206MA2XXXXX04, phone: "13800000000"}
          intake: {accepted: true}
    """)
    res = run_cli(tmp_path / "my_matter.bpmn")
    assert res.exit_code == 0, res.output
    (tmp_path / "my_matter.bpmn").write_text(text.replace('<bpmn:endEvent id="end"', '<bpmn:endEvent id="end" x'),
                                             encoding="utf-8")
    res = run_cli(tmp_path)
    assert res.exit_code == 1, res.output
    assert "ERROR setting up: the models have errors (run `onewindow check`)\n" in res.output
    assert re.search(r"\n  .*my_matter\.bpmn:60: -: not well-formed XML", res.output), res.output
