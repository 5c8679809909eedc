"""After the decisions: materials supplied later (补齐), the post-approval check of a commitment (事后核查) and the
pickup (统一出件)."""
from __future__ import annotations

from ..errors import Conflict, Invalid
from . import ledger as L
from .base import Call, Rule


class SupplyRule(Rule):
    """`rule=supply`: the deferred (容缺) materials are brought; every owed material must be among them."""

    name = "supply"

    def apply(self, call: Call) -> dict:
        owed = L.owed(call.ledger)
        if not owed:
            raise Conflict("这个办件没有待补齐的容缺材料 (nothing is owed on this case)")
        supplied = [str(x) for x in call.data.get("supplied") or []]
        still = [m for m in owed if m not in supplied]
        if still:
            names = {m.get("id"): m.get("name") for m in call.guide.get("materials") or [] if isinstance(m, dict)}
            raise Invalid("容缺材料尚未补齐：" + "、".join(names.get(m, m) for m in still),
                          {"supplied": "仍欠：" + "、".join(names.get(m, m) for m in still)})
        L.write(call.wf, supplied=sorted(set(call.ledger.get("supplied") or []) | set(owed)))
        return {"supplied": [m for m in supplied if m in owed], "remark": str(call.data.get("remark") or ""),
                "owed": []}


class PostCheckRule(Rule):
    """`rule=post_check`: 事后核查 of a 告知承诺 approval; a false commitment revokes what it won (see
    outcomes.revocations_due), with the finding as the reason."""

    name = "post_check"

    def apply(self, call: Call) -> dict:
        result, remark = call.data.get("result"), str(call.data.get("remark") or "").strip()
        if result not in ("ok", "violation"):
            raise Invalid(f"unknown result {result!r}", {"result": "核查结果应为承诺属实或承诺不实"})
        if result == "violation" and not remark:
            raise Invalid("承诺不实须写明核查意见", {"remark": "承诺不实须写明核查发现的问题"})
        L.write(call.wf, post_check={"result": result, "remark": remark, "by": call.actor})
        return {"result": result, "remark": remark}


class PickupRule(Rule):
    """`rule=pickup`: hand out every approval with its certificate and every refusal, at the window or by express.
    Nothing is handed out while a deferred material is owed."""

    name = "pickup"

    def apply(self, call: Call) -> dict:
        owed = L.owed(call.ledger)
        if owed:
            names = {m.get("id"): m.get("name") for m in call.guide.get("materials") or [] if isinstance(m, dict)}
            raise Conflict("容缺材料未补齐，不能出件：" + "、".join(names.get(m, m) for m in owed))
        method = call.data.get("method")
        if method not in ("window", "express"):
            raise Invalid(f"unknown method {method!r}", {"method": "送达方式应为窗口领取或快递送达"})
        tracking = str(call.data.get("tracking_no") or "").strip()
        if method == "express" and not tracking:
            raise Invalid("快递送达须填写快递单号", {"tracking_no": "快递送达须填写快递单号"})
        L.write(call.wf, pickup={"method": method, "tracking_no": tracking or None, "by": call.actor})
        out = {"method": method}
        if tracking:
            out["tracking_no"] = tracking
        return out
