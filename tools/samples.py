"""Regenerate the two sample processes of the engine-core issue and their forms (`python -m tools.samples`)."""
import json
from pathlib import Path

from tools.bpmngen import Process
from tools.catalogue import FILES, MATERIALS, one_of, system

# A demo: deployable and used by tests, never listed in the public catalogue; its guide is derived from the diagram.
SAMPLE = {"kind": "sample"}
DEPTS = [("market", "市场监管局"), ("tax", "税务局"), ("social", "人社局"), ("fund", "公积金中心"), ("police", "公安局")]


LEVELS = [("dept_accept", "承办", "market", "P1D"), ("dept_review", "审核", "market_lead", "P3D"),
          ("dept_decide", "审批", "market_head", "P1D")]


def sample_matter() -> Process:
    """Three-level review (承办 → 审核 → 审批), each level its own group; a rejection at any level goes straight
    to pickup with the refusal."""
    p = Process("sample_matter", "示例事项：食品经营许可", dialect="camunda", guide=SAMPLE)
    p.lane("lane_front", "综合窗口"); p.lane("lane_dept", "市场监管局"); p.lane("lane_pickup", "出件窗口")
    p.start("start", "提交申请", lane="lane_front")
    p.user("intake", "综合受理", group="front_desk", form="intake", lane="lane_front", props={"rule": "intake"})
    p.xor("gw_accepted", "是否受理", lane="lane_front", default="Flow_gw_accepted_end_refused")
    for n, (tid, label, group, due) in enumerate(LEVELS, 1):
        p.user(tid, label, group=group, form="review", due=due, lane="lane_dept", col=3 + 2 * (n - 1),
               props={"rule": "review", "member": "sample_matter", "level": n, "levels": len(LEVELS)})
        p.xor(f"gw_{tid}", f"{label}结论", lane="lane_dept", col=4 + 2 * (n - 1), default=f"Flow_gw_{tid}_pickup")
        p.flow(tid, f"gw_{tid}")
        p.flow(f"gw_{tid}", "pickup", fid=f"Flow_gw_{tid}_pickup", name="不予" if n < len(LEVELS) else "")
        if n < len(LEVELS):
            p.flow(f"gw_{tid}", LEVELS[n][0], cond="decision == 'approve'", name="同意")
    p.user("pickup", "出件", group="pickup", form="pickup", lane="lane_pickup", col=9, props={"rule": "pickup"})
    p.end("end", "办结", lane="lane_pickup")
    p.end("end_refused", "不予受理", col=3, row=1, lane="lane_front")
    p.chain("start", "intake", "gw_accepted")
    p.flow("gw_accepted", "dept_accept", cond="accepted == True", name="受理")
    p.flow("gw_accepted", "end_refused", name="不予受理")  # the default: accepted is False
    p.chain("pickup", "end")
    return p


def review(code: str, dept: str) -> Process:
    p = Process(f"review_{code}", f"{dept}审核", dialect="spiff")
    p.lane(f"lane_{code}", code)
    p.start("start", "开始", lane=f"lane_{code}")
    p.user("review", f"{dept}审查", form="review", due="P2D", lane=f"lane_{code}",
           props={"rule": "review", "member": code})
    p.end("end", "完成", lane=f"lane_{code}")
    p.chain("start", "review", "end")
    return p


def sample_bundle() -> Process:
    p = Process("sample_bundle", "示例一件事：企业开办", dialect="camunda", guide=SAMPLE)
    p.lane("lane_front", "综合窗口"); p.lane("lane_back", "后台审批"); p.lane("lane_pickup", "出件窗口")
    p.start("start", "提交申请", lane="lane_front")
    p.user("intake", "综合受理", group="front_desk", form="intake", lane="lane_front", props={"rule": "intake"})
    p.xor("gw_accepted", "是否受理", lane="lane_front", default="Flow_gw_accepted_end_refused")
    p.par("split", "并联审批", lane="lane_back")
    col = p.col
    for i, (code, dept) in enumerate(DEPTS):  # stacked one above the other inside the back-office lane
        p.call(f"call_{code}", dept, f"review_{code}", col=col, row=i - 2, lane="lane_back")
    p.col = col + 1
    p.par("join", "汇合", lane="lane_back")
    p.user("pickup", "统一出件", group="pickup", form="pickup", lane="lane_pickup", props={"rule": "pickup"})
    p.end("end", "办结", lane="lane_pickup")
    p.end("end_refused", "不予受理", col=3, row=1, lane="lane_front")
    p.chain("start", "intake", "gw_accepted")
    p.flow("gw_accepted", "split", cond="accepted == True", name="受理")
    p.flow("gw_accepted", "end_refused", name="不予受理")  # the default: accepted is False
    for code, _ in DEPTS:
        p.flow("split", f"call_{code}")
        p.flow(f"call_{code}", "join")
    p.chain("join", "pickup", "end")
    return p


SCHEMA = "https://json-schema.org/draft/2020-12/schema"
FORMS = {
    "review": {"$schema": SCHEMA, "title": "审查意见", "type": "object", "properties": {
        "decision": {"type": "string", "title": "结论", **one_of({"approve": "同意", "reject": "不同意"})},
        "opinion": {"type": "string", "title": "审查意见", "minLength": 1, "maxLength": 2000}},
        "required": ["decision", "opinion"], "additionalProperties": False},
    "intake": {"$schema": SCHEMA, "title": "综合受理", "type": "object", "properties": {
        "accepted": {"type": "boolean", "title": "材料齐全，予以受理", "description": "不予受理时须写明原因"},
        "remark": {"type": "string", "title": "受理意见", "maxLength": 500},
        "reason": {"type": "string", "title": "不予受理理由", "maxLength": 1000}},
        "required": ["accepted"], "additionalProperties": False, **system(files=FILES, materials=MATERIALS)},
}


def write_forms(folder: str = "forms") -> None:
    for name, form in FORMS.items():
        Path(folder, f"{name}.json").write_text(json.dumps(form, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_forms()
    sample_matter().write("processes/sample_matter.bpmn")
    sample_bundle().write("processes/sample_bundle.bpmn")
    for code, dept in DEPTS:
        review(code, dept).write(f"processes/review_{code}.bpmn")
