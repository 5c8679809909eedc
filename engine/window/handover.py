"""After the decisions: materials supplied later (补齐), the post-approval check of a commitment (事后核查) and the
pickup (统一出件)."""
from __future__ import annotations

from ..errors import Conflict, Invalid
from ..files.registry import file_refs
from ..messages import Message
from . import ledger as L
from .base import Call, Rule
from .notices import case_materials
from .outcomes import applied_for, member_infos


class SupplyRule(Rule):
    """`rule=supply`: the deferred (容缺) materials are brought; every owed material must be among them."""

    name = "supply"
    takes_files = True

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
        refs = file_refs(call.data.get("files"))
        for key in refs:
            if key not in owed:
                raise Invalid(Message("文件应对应一项待补齐的材料", "files go with an owed material"),
                              {f"files.{key}": Message("不是待补齐的材料", "not an owed material")})
        L.write(call.wf, supplied=sorted(set(call.ledger.get("supplied") or []) | set(owed)))
        L.add_files(call.wf, "supply", refs, call.context.get("files") or {}, call.actor)
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


def handover_items(guide: dict, process_id: str, ledger: dict) -> list[dict]:
    """What the pickup window hands over, in order: each member's decision (准予/不予许可决定书), each approved
    member's certificate, and the originals the hall kept during review. `key` is what a submission's `handed`
    lists; `label` is what the clerk reads."""
    infos, docs = member_infos(guide, process_id), ledger.get("documents") or {}
    items = []
    for mid in applied_for(guide, process_id, ledger):
        rec, info = L.member(ledger, mid), infos.get(mid) or {}
        name = info.get("name") or mid
        number = docs.get(f"decision:{mid}")
        if number:
            approve = rec.get("decision") == "approve"
            title = "准予许可决定书" if approve else "不予许可决定书"
            title_en = "Decision to approve" if approve else "Decision to refuse"
            items.append({"key": f"decision:{mid}", "kind": "decision",
                          "label": Message(f"{title}（{name}）{number}", f"{title_en} ({name}) {number}")})
        if rec.get("decision") == "approve" and info.get("certificate"):
            items.append({"key": f"certificate:{mid}", "kind": "certificate",
                          "label": Message(f"《{info['certificate']['name']}》（{name}）",
                                           f"{info['certificate']['name']} ({name})")})
    statuses = (ledger.get("intake") or {}).get("materials") or {}
    for m in case_materials(guide, process_id, ledger):
        if m.get("keep_original") and statuses.get(m["id"]) == "provided":
            items.append({"key": f"original:{m['id']}", "kind": "original", "label": Message(f"退还原件：{m['name']}",
                                                                                       f"Return the original: {m['name']}")})
    return items


class PickupRule(Rule):
    """`rule=pickup`: hand out every approval with its certificate and every refusal, at the window or by express.
    Nothing is handed out while a deferred material is owed. From edition 2 the recipient (and an authorised proxy),
    the express address and the list of what was handed over are recorded; a `handed` list must cover it all. The
    delivery the applicant chose online is looked up and recorded (`chosen`)."""

    name = "pickup"

    def lookup(self, tx, call: Call) -> dict:
        """The delivery the applicant chose online (engine.db.Delivery), recorded with the pickup's event."""
        from ..db import Delivery

        row = tx.s.get(Delivery, tx.case.id)
        if row is None:
            return {}
        chosen = {"method": row.method}
        chosen.update({k: getattr(row, k) for k in ("name", "phone", "address") if getattr(row, k)})
        return {"chosen": chosen}

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
        entry = {"method": method, "tracking_no": tracking or None, "by": call.actor}
        if int(call.ledger.get("edition") or 1) >= 2:
            items = handover_items(call.guide, call.process_id, call.ledger)
            handed = call.data.get("handed")
            if handed is not None:
                left = [i["label"] for i in items if i["key"] not in handed]
                if left:
                    raise Invalid(Message("交付清单尚未逐项确认：" + "、".join(left),
                                          "not every item to hand over was confirmed: " + ", ".join(left)),
                                  {"handed": Message("未确认：" + "、".join(left), "not confirmed: " + ", ".join(left))})
            recipient = call.data.get("recipient") or {}
            entry.update(handed=[i["key"] for i in items],
                         recipient={k: recipient[k] for k in ("name", "id_number", "phone", "proxy", "authorization")
                                    if k in recipient})
            for k in ("address", "courier"):
                if str(call.data.get(k) or "").strip():
                    entry[k] = str(call.data[k]).strip()
        if call.context.get("chosen"):  # what the applicant chose online (the page pre-fills the clerk's form with it)
            entry["chosen"] = dict(call.context["chosen"])
        L.write(call.wf, pickup=entry)
        out = {"method": method}
        if tracking:
            out["tracking_no"] = tracking
        return out
