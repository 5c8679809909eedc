"""Regenerate the county service-hall catalogue (`python -m tools.catalogue`).

Why a generator: ~25 matters and 7 bundles share one shape (intake → review → 容缺 gate → pickup), one set of
window forms, and bundle intake forms that are COMPOSED from the members' forms (shared fields asked once).
Writing them by hand would drift; this script keeps ids, guides, forms and diagram layout consistent.

Files written: processes/rv_<m>.bpmn (a department's review of matter m, called by matters and bundles),
processes/m_<m>.bpmn (the matter applied for alone), processes/b_<bundle>.bpmn, processes/*_dispatch.bpmn
(route one applicant-chosen item to its review), processes/unemp_rules.dmn, forms/f_<m>.json (member forms),
forms/b_<bundle>.json (composed), and the window forms; then tools.scenarios writes the scenario tests beside the
m_/b_ diagrams (processes/*.scenarios.yaml).
"""
from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from tools.bpmngen import Process

ROOT = Path(__file__).resolve().parent.parent
PROC, FORMS = ROOT / "processes", ROOT / "forms"

DEPTS = {"market": "市场监管局", "tax": "税务局", "police": "公安局", "social": "人社局", "medins": "医保局",
         "fund": "公积金中心", "health": "卫健委", "estate": "不动产登记中心", "housing": "住建局", "dev": "发改局",
         "urban": "城管局", "water": "自来水公司", "power": "供电公司", "gas": "燃气公司"}

def one_of(labels: dict) -> dict:
    """Fixed choices with their labels, as JSON Schema says it (react-jsonschema-form shows the titles)."""
    return {"oneOf": [{"const": value, "title": title} for value, title in labels.items()]}


def system(**fields) -> dict:
    """Fields the platform sets, not typed in: beside the form under $defs/system (engine.model.forms)."""
    return {"$defs": {"system": {"type": "object", "properties": fields}}}


# Shared fields: one definition, so a composed bundle form asks each of them once.
SHARED = {
    "address": {"type": "string", "title": "住所（经营场所）", "minLength": 1, "maxLength": 300},
    "contact_name": {"type": "string", "title": "联系人", "minLength": 1, "maxLength": 50},
    "property_address": {"type": "string", "title": "房屋坐落", "minLength": 1, "maxLength": 300},
    "project_code": {"type": "string", "title": "项目代码", "minLength": 1, "maxLength": 40},
    "project_name": {"type": "string", "title": "项目名称", "minLength": 1, "maxLength": 200},
    "baby_name": {"type": "string", "title": "新生儿姓名", "minLength": 1, "maxLength": 50},
}
# The applicant block of every intake (name, 统一社会信用代码 or 身份证号, phone) is not asked again in a form: one
# field per fact, so a company's name, a person's ID number and the phone are never typed twice.
COMPANY = ["address", "contact_name"]
LEGAL_REP_ID = {"id_number": {"type": "string", "title": "法定代表人身份证号码", "format": "cn-id-number", "maxLength": 18}}


def mat(mid, name, required=True, deferrable=False, commitment=False, substitutes=(), keep_original=False):
    """A material of a guide; `keep_original`: the hall keeps the original during review and returns it at pickup."""
    out = {"id": mid, "name": name, "required": required, "deferrable": deferrable,
           "commitment_allowed": commitment, "substitutes": list(substitutes)}
    if keep_original:
        out["keep_original"] = True
    return out


# 一次提交、多次复用: an identity proof handed in with an earlier accepted case of the same holder is not asked again
ID_CARD = mat("id_card", "申请人身份证明", substitutes=["record:population", "case:id_card"])
LICENCE = mat("licence", "营业执照", substitutes=["cert:business_licence"])
LEASE = mat("lease", "经营场所使用证明（租赁合同/产权证）", deferrable=True, substitutes=["case:lease"])


def matter(mid, name, group, code, mtype, basis, statutory, promised, fields, materials, handling="承诺件",
           online="网上预审", scope="全市通办", fees=(), cert=None, extra=None, levels=1, deemed=False, post_check_days=10,
           level="district", negative=None):
    """A matter and its guide; `levels`: review levels in the department (3: 承办 → 审核 → 审批 for a 行政许可 with
    substantive review; 2: 一审一核; 1: one review); `deemed`: 超时默认 — a review not decided within its time is
    deemed approved and sealed automatically; `post_check_days`: 事后核查 of a 告知承诺 approval that many working days
    after it; `level`: the level of hall whose department decides it (市、区、街道、社区)."""
    guide = {"code": code, "name": name, "type": mtype, "department": DEPTS[group], "group": group, "level": level,
             "review_levels": levels,
             "legal_basis": basis, "handling": handling, "statutory_days": statutory, "promised_days": promised,
             "fees": list(fees), "visits": 0 if online == "全程网办" else 1, "online": online, "scope": scope,
             "materials": materials}
    if negative:  # 负面清单: more than one visit is needed, and the public is told why
        guide["visits"] = negative[0]
        guide["negative_list"] = {"reason": negative[1]}
    if deemed:
        guide["deemed_approval"] = True
    if any(m["commitment_allowed"] for m in materials):
        guide["post_check_days"] = post_check_days
    if cert:
        guide["certificate"] = {"type": cert[0], "name": cert[1], "valid_years": cert[2]}
    return {"id": mid, "group": group, "fields": fields, "extra": extra or {}, "guide": guide}


MATTERS = [
    matter("company_reg", "企业设立登记", "market", "000-XK-0101", "行政许可", ["《市场主体登记管理条例》第三条"], 3, 1,
           COMPANY, [ID_CARD, mat("articles", "公司章程"), LEASE],
           online="全程网办", cert=("business_licence", "营业执照", None), levels=2,
           extra={**LEGAL_REP_ID, "registered_capital": {"type": "number", "title": "注册资本（万元）", "minimum": 0}}),
    matter("seal", "公章刻制备案", "police", "000-QT-0201", "公共服务", ["《印铸刻字业暂行管理规则》"], 1, 0,
           COMPANY, [LICENCE, ID_CARD], handling="即办件", cert=("seal_filing", "印章备案回执", None)),
    matter("tax_invoice", "新办纳税人发票申领", "tax", "000-QT-0301", "公共服务", ["《中华人民共和国发票管理办法》第十五条"], 5, 1,
           COMPANY, [LICENCE, mat("tax_ukey", "税控设备领用确认书", required=False)], online="全程网办",
           cert=("invoice_approval", "发票票种核定通知", None)),
    matter("social_reg", "单位社会保险登记", "social", "000-QR-0401", "行政确认", ["《中华人民共和国社会保险法》第五十七条"], 15, 1,
           COMPANY, [LICENCE], online="全程网办", cert=("social_reg", "社会保险登记证明", None)),
    matter("fund_reg", "单位住房公积金缴存登记", "fund", "000-QR-0501", "行政确认", ["《住房公积金管理条例》第十四条"], 5, 1,
           COMPANY, [LICENCE], online="全程网办", cert=("fund_reg", "公积金缴存登记证明", None), level="city"),
    matter("food_permit", "食品经营许可", "market", "000-XK-0102", "行政许可", ["《中华人民共和国食品安全法》第三十五条"], 20, 5,
           COMPANY, [LICENCE, LEASE, mat("layout", "经营场所平面布局图", commitment=True),
                     mat("safety_rules", "食品安全管理制度", commitment=True)],
           cert=("food_permit", "食品经营许可证", 5), levels=3,
           extra={"food_categories": {"type": "array", "title": "经营项目", "minItems": 1,
                                      "items": {"enum": ["热食类", "冷食类", "生食类", "糕点类", "自制饮品"]}}}),
    matter("hygiene_permit", "公共场所卫生许可", "health", "000-XK-0701", "行政许可", ["《公共场所卫生管理条例》第八条"], 20, 5,
           COMPANY, [LICENCE, mat("hygiene_staff", "从业人员健康合格证明", deferrable=True),
                     mat("hygiene_rules", "卫生管理制度", commitment=True)],
           cert=("hygiene_permit", "公共场所卫生许可证", 4), levels=3),
    matter("signboard", "户外招牌设置审批", "urban", "000-XK-1101", "行政许可", ["《城市市容和环境卫生管理条例》第十一条"], 20, 3,
           COMPANY, [LICENCE, mat("sign_design", "招牌设计效果图")], cert=("signboard", "户外招牌设置许可", 3), levels=3,
           extra={"sign_text": {"type": "string", "title": "招牌文字", "minLength": 1, "maxLength": 50}}),
    matter("contract_filing", "存量房买卖合同网签备案", "housing", "000-QT-0901", "公共服务", ["《城市房地产管理法》第四十五条"], 5, 1,
           ["property_address"], [ID_CARD, mat("sale_contract", "存量房买卖合同"),
                                                                mat("deed", "不动产权证书", substitutes=["cert:estate_title"])],
           cert=("contract_filing", "合同备案证明", None), level="city"),
    matter("deed_tax", "存量房交易税费申报", "tax", "000-QT-0302", "公共服务", ["《中华人民共和国契税法》第九条"], 5, 1,
           ["property_address"], [ID_CARD, mat("sale_contract", "存量房买卖合同")],
           cert=("tax_receipt", "完税证明", None),
           extra={"price": {"type": "number", "title": "成交价（万元）", "minimum": 0}}),
    matter("estate_transfer", "不动产转移登记", "estate", "000-QR-0801", "行政确认", ["《不动产登记暂行条例》第二十条"], 30, 3,
           ["property_address"], [ID_CARD, mat("deed", "不动产权证书", substitutes=["cert:estate_title"]),
                                                                mat("tax_paid", "完税证明", substitutes=["cert:tax_receipt"])],
           cert=("estate_title", "不动产权证书", None), levels=2, level="city"),
    matter("water_transfer", "用水过户", "water", "000-GG-1201", "公共服务", ["《城市供水条例》"], 5, 1,
           ["property_address"], [ID_CARD], handling="承诺件", online="全程网办",
           cert=("water_account", "用水户号变更确认", None), deemed=True),
    matter("power_transfer", "用电过户", "power", "000-GG-1301", "公共服务", ["《供电营业规则》第二十九条"], 5, 1,
           ["property_address"], [ID_CARD], online="全程网办",
           cert=("power_account", "用电户名变更确认", None), deemed=True),
    matter("gas_transfer", "用气过户", "gas", "000-GG-1401", "公共服务", ["《城镇燃气管理条例》"], 5, 1,
           ["property_address"], [ID_CARD], online="全程网办",
           cert=("gas_account", "用气户名变更确认", None), deemed=True),
    matter("project_filing", "企业投资项目备案", "dev", "000-QT-1001", "其他行政权力", ["《企业投资项目核准和备案管理条例》第十三条"], 3, 1,
           COMPANY + ["project_code", "project_name"], [LICENCE, mat("project_info", "项目基本情况")], online="全程网办",
           cert=("project_filing", "项目备案证明", None)),
    matter("construction_permit", "建筑工程施工许可证核发", "housing", "000-XK-0902", "行政许可", ["《中华人民共和国建筑法》第八条"], 15, 3,
           COMPANY + ["project_code", "project_name"], [LICENCE, mat("land_title", "用地批准手续", substitutes=["cert:estate_title"]),
                                                      mat("drawings_review", "施工图审查合格书", deferrable=True),
                                                      mat("funds_proof", "建设资金落实证明", commitment=True)],
           cert=("construction_permit", "建筑工程施工许可证", None), levels=3, level="city"),
    matter("quality_safety", "工程质量安全监督登记", "housing", "000-QT-0903", "公共服务", ["《建设工程质量管理条例》第十三条"], 5, 1,
           COMPANY + ["project_code", "project_name"], [LICENCE, mat("supervision_contract", "监理合同")],
           cert=("quality_safety", "质量安全监督登记回执", None)),
    matter("fire_design", "特殊建设工程消防设计审查", "housing", "000-XK-0904", "行政许可", ["《建设工程消防设计审查验收管理暂行规定》第十五条"], 15, 5,
           COMPANY + ["project_code", "project_name"], [LICENCE, mat("fire_drawings", "消防设计文件")],
           cert=("fire_design", "消防设计审查意见书", None), levels=3, level="city"),
    matter("birth_cert", "出生医学证明首次签发", "health", "000-QT-0702", "公共服务", ["《中华人民共和国母婴保健法》第二十三条"], 5, 1,
           ["baby_name"], [ID_CARD, mat("birth_record", "分娩记录", substitutes=["record:hospital"])],
           cert=("birth_certificate", "出生医学证明", None)),
    matter("hukou_birth", "出生登记（户口）", "police", "000-QR-0202", "行政确认", ["《中华人民共和国户口登记条例》第七条"], 5, 1,
           ["baby_name"], [ID_CARD, mat("birth_certificate", "出生医学证明", substitutes=["cert:birth_certificate"]),
                                                         mat("hukou_book", "户口簿", substitutes=["record:population"], keep_original=True)],
           cert=("hukou", "户口登记", None)),
    matter("medins_enrol", "城乡居民医保参保登记", "medins", "000-GG-0601", "公共服务", ["《中华人民共和国社会保险法》第二十五条"], 5, 1,
           [], [mat("hukou_record", "户籍证明", substitutes=["cert:hukou", "record:population"])],
           online="全程网办", cert=("medins", "医保参保凭证", None),
           extra={"insured_category": {"type": "string", "title": "参保人员类别", "enum": ["城乡居民", "学生儿童", "新生儿"]}}),
    matter("social_card", "社会保障卡申领", "social", "000-GG-0402", "公共服务", ["《社会保障卡管理办法》"], 10, 3,
           [], [mat("hukou_record", "户籍证明", substitutes=["cert:hukou", "record:population"]),
                mat("photo", "证件照片", deferrable=True)],
           online="全程网办", cert=("social_card", "社会保障卡", 10),
           extra={"card_bank": {"type": "string", "title": "金融功能开通银行",
                                "enum": ["工商银行", "农业银行", "中国银行", "建设银行", "农商银行"]}}),
    matter("unemp_benefit", "失业保险金申领", "social", "000-GF-0403", "行政给付", ["《失业保险条例》第十四条"], 10, 0,
           [], [ID_CARD, mat("separation", "解除劳动合同证明", substitutes=["record:employment"])],
           handling="即办件", online="全程网办", scope="全省通办", cert=("unemp_benefit", "失业保险金核定通知", None),
           extra={"insured_months": {"type": "integer", "title": "累计缴费月数", "minimum": 0},
                  "leaving_reason": {"type": "string", "title": "离职原因",
                                     **one_of({"dismissed": "被辞退", "contract_ended": "合同期满",
                                               "resigned": "个人辞职", "other": "其他"})},
                  "job_registered": {"type": "boolean", "title": "已办理失业登记"}}, level="city"),
    matter("id_card_renew", "居民身份证换领", "police", "000-GG-0203", "公共服务", ["《中华人民共和国居民身份证法》第十一条"], 60, 20,
           [], [mat("old_id", "原居民身份证", keep_original=True), mat("photo", "证件照片", substitutes=["record:population"])],
           scope="跨省通办", fees=[{"name": "证件工本费", "amount": 20, "basis": "发改价格〔2003〕2322号"}],
           cert=("id_card_receipt", "居民身份证领取凭证", None),
           extra={"renew_reason": {"type": "string", "title": "换领原因", "enum": ["有效期满", "证件损坏", "信息变更"]}},
           negative=(2, "须本人到场采集人像和指纹；证件制作完成后须本人到场领取并核验指纹")),
    matter("water_connect", "用水报装", "water", "000-GG-1202", "公共服务", ["《城市供水条例》第二十三条"], 10, 3,
           COMPANY, [LICENCE, mat("site_plan", "用水地点平面图")], cert=("water_connect", "用水报装确认", None)),
]
M = {m["id"]: m for m in MATTERS}
# What people search the catalogue by besides the name: a short name and keywords (the certificate a matter
# produces and its department are searched too, from the guide).
SEARCH = {
    "company_reg": ("企业登记", ["营业执照", "公司注册", "开公司", "市场主体"]),
    "seal": ("刻章备案", ["公章", "印章", "刻章"]), "tax_invoice": ("领发票", ["发票", "税控", "新办纳税人"]),
    "social_reg": ("社保登记", ["社保开户", "社会保险"]), "fund_reg": ("公积金开户", ["公积金", "缴存登记"]),
    "food_permit": ("食品许可", ["餐饮", "开饭店", "食品经营"]), "hygiene_permit": ("卫生许可", ["公共场所", "卫生许可证"]),
    "signboard": ("招牌审批", ["店招", "广告牌", "门头"]), "contract_filing": ("网签备案", ["二手房", "房屋买卖", "网签"]),
    "deed_tax": ("契税申报", ["契税", "二手房", "交易税费"]), "estate_transfer": ("过户登记", ["房产证", "不动产", "过户"]),
    "water_transfer": ("水过户", ["自来水", "水表"]), "power_transfer": ("电过户", ["电表", "用电"]),
    "gas_transfer": ("气过户", ["燃气", "天然气"]), "project_filing": ("项目备案", ["投资项目", "立项"]),
    "construction_permit": ("施工许可", ["开工", "施工许可证"]), "quality_safety": ("质监登记", ["质量安全", "质监"]),
    "fire_design": ("消防审查", ["消防", "消防设计"]), "birth_cert": ("出生证", ["出生证明", "新生儿"]),
    "hukou_birth": ("报户口", ["户口", "落户", "新生儿"]), "medins_enrol": ("医保参保", ["医保", "居民医保"]),
    "social_card": ("办社保卡", ["社保卡", "社会保障卡"]), "unemp_benefit": ("领失业金", ["失业金", "失业保险"]),
    "id_card_renew": ("换身份证", ["身份证", "换证"]), "water_connect": ("用水报装", ["接水", "装水表"]),
}
for _mid, (_short, _words) in SEARCH.items():
    M[_mid]["guide"].update(short_name=_short, keywords=_words)
BUNDLE_SEARCH = {"start_up": ("企业开办", ["开公司", "办企业"]), "restaurant": ("开餐馆", ["餐饮", "开饭店"]),
                 "house": ("二手房过户", ["二手房", "买房", "过户"]), "joint": ("联审联批", ["市场主体设立", "后置许可"]),
                 "build": ("施工许可", ["工程建设", "开工"]), "newborn": ("新生儿出生", ["出生", "新生儿", "报户口"])}
LEVEL_ORDER = ["city", "district", "street", "community"]  # a bundle is decided at its highest member's level
PERMITS = ["food_permit", "hygiene_permit", "signboard"]           # 联审联批 post-licence permits to choose from
BUILD_ITEMS = ["construction_permit", "quality_safety", "fire_design"]  # 施工许可 stage matters to choose from


# ---------------------------------------------------------------- forms
def member_form(m) -> dict:
    props = {k: SHARED[k] for k in m["fields"]}
    props.update(m["extra"])
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": m["guide"]["name"], "type": "object",
            "properties": props, "required": [k for k in props if k not in ("tax_ukey",)],
            "additionalProperties": False}


def compose_form(title: str, member_ids: list[str], forms_dir: Path = FORMS, extra: dict | None = None,
                 chosen: tuple[str, list[str]] | None = None) -> dict:
    """ONE intake form for a bundle from its members' forms: a shared field is asked once (its definitions must
    agree); which members read each field is declared under `$defs/member.<id>` (plain JSON Schema, which form
    renderers leave alone). With
    `chosen` = (list field, optional member ids), an optional member's own fields are required only when chosen."""
    props: dict = {}
    defs: dict = {}
    required: list[str] = []
    optional = set(chosen[1]) if chosen else set()
    conditional: dict[str, list[str]] = {}
    for mid in member_ids:
        form = json.loads((forms_dir / f"f_{mid}.json").read_text(encoding="utf-8"))
        for key, schema in form["properties"].items():
            if key in props and props[key] != schema:
                raise ValueError(f"field {key} differs between members of {title}")
            props[key] = schema
        defs[f"member.{mid}"] = {"type": "object", "properties": {k: {"$ref": f"#/properties/{k}"}
                                                                  for k in form["properties"]}}
        target = conditional.setdefault(mid, []) if mid in optional else required
        target += [k for k in form.get("required", []) if k not in target]
    props.update(extra or {})
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
           "properties": props, "required": required, "additionalProperties": False, "$defs": defs}
    rules = [{"if": {"properties": {chosen[0]: {"type": "array", "contains": {"const": mid}}}, "required": [chosen[0]]},
              "then": {"required": [k for k in keys if k not in required]}}
             for mid, keys in conditional.items() if [k for k in keys if k not in required]]
    if rules:
        out["allOf"] = rules
    return out


# Material files handed in with a submission: {material (or 补正 item): [sha256 of an uploaded file, ...]}; set by
# the pages' upload fields and the API (POST /api/v1/files), not typed in.
FILES = {"type": "object", "title": "材料电子件",
         "additionalProperties": {"type": "array", "maxItems": 20,
                                  "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}

# How each material of the guide was handed in ({material: provided | deferred | commitment}); ticked on the front
# desk's material checklist, which knows the guide's materials, not typed in.
MATERIALS = {"type": "object", "title": "材料情况",
             "additionalProperties": {"enum": ["provided", "deferred", "commitment"]}}

WINDOW_FORMS = {
    "window_intake": {
        "title": "综合受理", **system(files=FILES, materials=MATERIALS), "properties": {
            "accepted": {"type": "boolean", "title": "予以受理"},
            "remark": {"type": "string", "title": "受理意见", "maxLength": 500},
            "reason": {"type": "string", "title": "不予受理理由", "maxLength": 1000}},
        "required": ["accepted"], "if": {"properties": {"accepted": {"const": False}}}, "then": {"required": ["reason"]}},
    "dept_review": {
        "title": "部门审查", "properties": {
            "decision": {"type": "string", "title": "结论", **one_of({"approve": "准予", "reject": "不予", "correct": "退回补正"})},
            "opinion": {"type": "string", "title": "审查意见", "minLength": 1, "maxLength": 2000},
            "corrections": {"type": "array", "title": "补正清单", "items": {"type": "string", "minLength": 1}}},
        "required": ["decision", "opinion"],
        "if": {"properties": {"decision": {"const": "correct"}}},
        "then": {"required": ["corrections"], "properties": {"corrections": {"type": "array", "minItems": 1}}}},
    "dept_review_upper": {
        "title": "审核/审批", "properties": {
            "decision": {"type": "string", "title": "结论", **one_of({"approve": "准予", "reject": "不予", "return": "退回上一级"})},
            "opinion": {"type": "string", "title": "意见", "minLength": 1, "maxLength": 2000}},
        "required": ["decision", "opinion"]},
    "window_decide": {
        "title": "即办决定", "properties": {
            "decision": {"type": "string", "title": "结论", **one_of({"approve": "准予", "reject": "不予"})},
            "opinion": {"type": "string", "title": "意见", "minLength": 1, "maxLength": 2000}},
        "required": ["decision", "opinion"]},
    # 差评整改 (issue 14): 核实 → 整改 → 回访 by the department concerned by a bad rating
    "zg_verify": {
        "title": "差评核实", "properties": {
            "substantiated": {"type": "string", "title": "核实结论",
                              **one_of({"yes": "情况属实", "partly": "部分属实", "no": "情况不属实"})},
            "finding": {"type": "string", "title": "核实情况", "minLength": 1, "maxLength": 2000}},
        "required": ["substantiated", "finding"]},
    "zg_fix": {
        "title": "差评整改", "properties": {
            "measures": {"type": "string", "title": "整改措施", "minLength": 1, "maxLength": 2000}},
        "required": ["measures"]},
    "zg_revisit": {
        "title": "差评回访", "properties": {
            "result": {"type": "string", "title": "回访结果",
                       **one_of({"satisfied": "满意", "basically": "基本满意", "unsatisfied": "仍不满意"})},
            "remark": {"type": "string", "title": "回访记录", "maxLength": 2000}},
        "required": ["result"]},
    "supplement": {
        "title": "补齐/补正材料", **system(files=FILES), "properties": {
            "supplied": {"type": "array", "title": "已补交材料", "items": {"type": "string"}},
            "remark": {"type": "string", "title": "说明", "maxLength": 1000}},
        "required": ["supplied"]},
    "pickup": {
        "title": "出件", **system(handed={"type": "array", "title": "交付清单", "maxItems": 200,
                                          "items": {"type": "string", "maxLength": 120}}),
        "properties": {
            "method": {"type": "string", "title": "送达方式", **one_of({"window": "窗口领取", "express": "快递送达"})},
            "recipient": {"type": "object", "title": "领取人（收件人）", "properties": {
                "name": {"type": "string", "title": "姓名", "minLength": 1, "maxLength": 50},
                "id_number": {"type": "string", "title": "身份证号码", "format": "cn-id-number", "maxLength": 18},
                "phone": {"type": "string", "title": "联系电话", "format": "cn-phone", "maxLength": 30},
                "proxy": {"type": "boolean", "title": "代为领取（非申请人本人）"},
                "authorization": {"type": "boolean", "title": "已核验授权委托书及代领人身份证件"}},
                "required": ["name"], "additionalProperties": False},
            "address": {"type": "string", "title": "送达地址", "maxLength": 300},
            "courier": {"type": "string", "title": "快递公司", "maxLength": 50},
            "tracking_no": {"type": "string", "title": "快递单号", "maxLength": 64}},
        "required": ["method", "recipient"],
        "allOf": [
            {"if": {"properties": {"method": {"const": "window"}}, "required": ["method"]},
             "then": {"properties": {"recipient": {"type": "object", "required": ["name", "id_number"]}}}},
            {"if": {"properties": {"method": {"const": "express"}}, "required": ["method"]},
             "then": {"required": ["address", "tracking_no"],
                      "properties": {"recipient": {"type": "object", "required": ["name", "phone"]}}}},
            {"if": {"properties": {"recipient": {"type": "object", "properties": {"proxy": {"const": True}},
                                                 "required": ["proxy"]}},
                    "required": ["recipient"]},
             "then": {"properties": {"recipient": {"type": "object", "required": ["authorization"],
                                                   "properties": {"authorization": {"const": True}}}}}}]},
    "post_check": {
        "title": "事后核查", "properties": {
            "result": {"type": "string", "title": "核查结果", **one_of({"ok": "承诺属实", "violation": "承诺不实"})},
            "remark": {"type": "string", "title": "核查意见", "maxLength": 2000}},
        "required": ["result"]},
    "joint_inspection": {
        "title": "联合踏勘", "properties": {
            "passed": {"type": "boolean", "title": "现场符合要求"},
            "findings": {"type": "string", "title": "踏勘意见", "minLength": 1, "maxLength": 2000}},
        "required": ["passed", "findings"]},
}


def write_form(name: str, form: dict) -> None:
    form = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", **form}
    form.setdefault("additionalProperties", False)
    (FORMS / f"{name}.json").write_text(json.dumps(form, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- processes
class Proc(Process):
    """bpmngen.Process plus a start-event form (the one intake form of a matter or bundle)."""

    def start(self, nid="start", name="提交申请", form=None, **kw):
        return self._add("startEvent", nid, name, form=form, **kw)

    def _node_xml(self, n) -> str:
        out = super()._node_xml(n)
        if n["kind"] == "startEvent" and n.get("form"):
            out = out.replace(f'name={quoteattr(n["name"])}', f'name={quoteattr(n["name"])} camunda:formKey="{n["form"]}"', 1)
        if n["kind"] == "businessRuleTask":  # the parser reads SpiffArena's calledDecisionId, not camunda:decisionRef
            out = out.replace(f' camunda:decisionRef="{n["decision"]}">',
                              f'><bpmn:extensionElements><spiffworkflow:calledDecisionId xmlns:spiffworkflow='
                              f'"http://spiffworkflow.org/bpmn/schema/1.0/core">{n["decision"]}'
                              '</spiffworkflow:calledDecisionId></bpmn:extensionElements>', 1)
        return out


def approved(mid: str) -> str:
    return f"decisions.get('{mid}') == 'approve'"


WARNING_SHARE = 0.2  # 预警 when a fifth of a task's time is left (ONEWINDOW_WARNING_SHARE's default)
LEVELS = {1: [("review", "审查", "")], 2: [("review", "审查", ""), ("review_check", "审核", "_lead")],
          3: [("review", "承办", ""), ("review_check", "审核", "_lead"), ("review_approve", "审批", "_head")]}


def review_process(m) -> Proc:
    """A department's review of one member, at 1 to 3 levels (承办 → 审核 → 审批): a rejection at any level ends it,
    an upper level may return it to the level below, the first level may return it ONCE for 补正 (the rule
    refuses a second time)."""
    g, mid = m["guide"], m["id"]
    levels = LEVELS[g.get("review_levels", 1)]
    p = Proc(f"rv_{mid}", f"{g['department']}审查：{g['name']}", guide={"kind": "internal", "member_of": f"m_{mid}"})
    p.start("start", "开始")
    timers = []
    for n, (tid, label, suffix) in enumerate(levels, 1):
        props = {"rule": "review", "member": mid, "level": n, "levels": len(levels)}
        if n > 1:
            props["may_return"] = "true"
        days = max(g['promised_days'] - len(levels) + 1, 1) if n == 1 else 1
        due = f"P{days}D"
        p.user(tid, f"{g['department']}{label}", group=m["group"] + suffix, col=1 + 2 * (n - 1),
               form="dept_review" if n == 1 else "dept_review_upper", due=due, props=props)
        timers.append((n, tid, label, days, due))
        p.xor(f"gw_{tid}", f"{label}结论", col=2 + 2 * (n - 1), default=f"Flow_gw_{tid}_end")
        p.flow(f"gw_{tid}", "end", fid=f"Flow_gw_{tid}_end", name="不予" if n < len(levels) else "")
        p.flow(tid, f"gw_{tid}")
        if n < len(levels):
            p.flow(f"gw_{tid}", levels[n][0], cond="decision == 'approve'", name="准予")
        if n > 1:
            p.flow(f"gw_{tid}", levels[n - 2][0], cond="decision == 'return'", name="退回上一级",
                   fid=f"Flow_gw_{tid}_back")
    p.end("end", "审查完成", col=2 * len(levels) + 1)
    p.user("correction", "补正材料", group="front_desk", form="supplement", col=2, row=1.2,
           props={"rule": "correction", "member": mid})
    p.flow("start", "review")
    p.flow("gw_review", "correction", name="补正", cond="decision == 'correct'")
    p.flow("correction", "review")
    for n, tid, label, days, due in timers:
        deadline_timers(p, m, n, len(levels), tid, label, days, due, levels)
    return p


def deadline_timers(p: Proc, m, n: int, count: int, tid: str, label: str, days: int, due: str, levels) -> None:
    """A review level's timers: 催办 (non-interrupting, at 预警: when a fifth of its time is left) where it has two
    working days or more, and 超时默认 (interrupting, at its due time) where the guide allows it."""
    g, mid = m["guide"], m["id"]
    row = 2.2 + (n - 1) * 0.0
    if days >= 2:
        at = days - max(1, round(days * WARNING_SHARE))
        p.boundary(f"remind_{tid}", f"{label}催办", tid, f"P{at}D", interrupting=False, slot=0)
        p.script(f"note_{tid}", f"{label}催办通知", "reminded = True", col=2 * n - 1, row=row,
                 props={"rule": "remind", "task": tid, "member": mid})
        p.end(f"end_remind_{tid}", "已催办", col=2 * n, row=row)
        p.chain(f"remind_{tid}", f"note_{tid}", f"end_remind_{tid}")
    if g.get("deemed_approval"):
        p.boundary(f"deadline_{tid}", f"{label}超时", tid, due, slot=1)
        last = n == count
        script = "decision = 'approve'\nopinion = '超时默认同意'"
        if last:
            script += f"\ndecisions = dict(decisions, {mid}='approve')"
        p.script(f"deem_{tid}", f"{label}超时默认同意", script, col=2 * n, row=-1.2,
                 props={"rule": "deemed", "member": mid, "level": n, "levels": count})
        p.flow(f"deadline_{tid}", f"deem_{tid}")
        p.flow(f"deem_{tid}", "end" if last else levels[n][0])


def intake_head(p: Proc, form: str) -> None:
    p.start("start", "提交申请", form=form)
    p.user("intake", "综合受理", group="front_desk", form="window_intake", props={"rule": "intake"})
    # the refusal is the default: only `accepted == True` goes on (a boolean the intake form requires, so a case
    # goes the way it went when the refusal had its own condition, `accepted == False`)
    p.xor("gw_accepted", "是否受理", default="Flow_gw_accepted_end_refused")
    p.end("end_refused", "不予受理", col=2, row=1.2)  # under the gateway: the split after it goes down from col 3
    p.chain("start", "intake", "gw_accepted")
    p.flow("gw_accepted", "end_refused", name="不予受理/一次性告知")


def owed_gate(p: Proc, col: int, row: float) -> tuple[str, str]:
    """The 容缺 branch: runs beside the review; the join before pickup waits until deferred materials are in."""
    p.xor("gw_owed", "有容缺材料？", col=col, row=row, default="Flow_gw_owed_merge_owed")
    p.user("supply", "补齐容缺材料", group="front_desk", form="supplement", col=col + 1, row=row, props={"rule": "supply"})
    p.xor("merge_owed", "", col=col + 2, row=row)
    p.flow("gw_owed", "supply", cond="len(owed) > 0", name="容缺")
    p.flow("gw_owed", "merge_owed", fid="Flow_gw_owed_merge_owed")
    p.flow("supply", "merge_owed")
    return "gw_owed", "merge_owed"


def matter_process(m) -> Proc:
    g, mid = m["guide"], m["id"]
    p = Proc(f"m_{mid}", g["name"], guide=g)
    intake_head(p, f"f_{mid}")
    if g["handling"] == "即办件":
        p.user("onsite", "窗口即办", group="front_desk", form="window_decide", props={"rule": "on_spot", "member": mid})
        p.end("end", "当场办结")
        p.flow("gw_accepted", "onsite", cond="accepted == True", name="受理")
        p.flow("onsite", "end")
        return p
    commit = any(x["commitment_allowed"] for x in g["materials"])
    p.xor("gw_route", "告知承诺？", default="Flow_gw_route_split") if commit else None
    p.par("split", "受理", col=p.col if not commit else 5)
    base = p.col
    p.call("call_review", g["department"] + "审查", f"rv_{mid}", col=base, row=0)
    a, b = owed_gate(p, base - 0, 1)
    p.par("join", "", col=base + 3)
    p.xor("merge_decided", "", col=base + 4)
    p.user("pickup", "出件", group="pickup", form="pickup", props={"rule": "pickup"})
    p.end("end", "办结", col=base + (9 if commit else 6))
    p.flow("gw_accepted", "gw_route" if commit else "split", cond="accepted == True", name="受理")
    p.chain("split", "call_review", "join")
    p.flow("split", a)
    p.flow(b, "join")
    p.chain("join", "merge_decided", "pickup")
    if commit:
        p.script("commit_approve", "告知承诺当场准予", "decision = 'approve'\nopinion = '申请人书面承诺，当场准予'",
                 col=5, row=-1, props={"rule": "auto_decision", "member": mid, "source": "commitment"})
        p.flow("gw_route", "commit_approve", cond="commitment == True", name="告知承诺")
        p.flow("gw_route", "split", fid="Flow_gw_route_split")
        p.flow("commit_approve", "merge_decided")
        p.xor("gw_post", "需核查？", col=base + 6, default="Flow_gw_post_end")
        p.timer("wait_post_check", f"承诺准予后{g['post_check_days']}个工作日", f"P{g['post_check_days']}D",
                col=base + 7, row=-1)
        p.user("post_check", "事后核查", group=m["group"], form="post_check", due="P20D", col=base + 8, row=-1,
               props={"rule": "post_check"})
        p.flow("pickup", "gw_post")
        p.flow("gw_post", "wait_post_check", cond="commitment == True", name="告知承诺")
        p.flow("wait_post_check", "post_check")
        p.flow("gw_post", "end", fid="Flow_gw_post_end")
        p.flow("post_check", "end")
    else:
        p.flow("pickup", "end")
    return p


def bundle_process(bid: str, name: str, members: list[str], body, extra_materials=(), chosen=None) -> Proc:
    """A bundle: one intake form, members' reviews in the shape `body` draws, one 容缺 gate, one pickup."""
    guide = {"code": f"000-YJS-{[b[0] for b in BUNDLES].index(bid) + 1:04d}", "name": name, "type": "一件事", "department": "政务服务中心", "group": "front_desk",
             "legal_basis": ["《国务院办公厅关于加快推进“一件事一次办”打造政务服务升级版的指导意见》"], "handling": "承诺件",
             "statutory_days": sum(M[x]["guide"]["statutory_days"] for x in members),
             "promised_days": max(M[x]["guide"]["promised_days"] for x in members) + 2, "fees": [], "visits": 1,
             "online": "网上预审", "scope": "全市通办", "members": members, "materials": [],
             "level": min((M[x]["guide"]["level"] for x in members), key=LEVEL_ORDER.index)}
    if chosen:
        guide["choose"] = chosen
    short, words = BUNDLE_SEARCH[bid]
    guide.update(short_name=short, keywords=words)
    guide["member_guides"] = {x: {"name": M[x]["guide"]["name"], "department": M[x]["guide"]["department"],
                                  "certificate": M[x]["guide"].get("certificate"), "type": M[x]["guide"]["type"],
                                  "legal_basis": M[x]["guide"]["legal_basis"],
                                  "promised_days": M[x]["guide"]["promised_days"],
                                  "short_name": M[x]["guide"].get("short_name"),
                                  "keywords": M[x]["guide"].get("keywords") or [],
                                  "deemed_approval": bool(M[x]["guide"].get("deemed_approval"))} for x in members}
    seen = set()
    produced = {M[x]["guide"]["certificate"]["type"]: x for x in members if M[x]["guide"].get("certificate")}
    for x in members:
        for mm in M[x]["guide"]["materials"]:
            if mm["id"] not in seen:
                seen.add(mm["id"])
                entry = dict(mm, members=[y for y in members if any(
                    z["id"] == mm["id"] for z in M[y]["guide"]["materials"])])
                made = [produced[s[5:]] for s in mm["substitutes"] if s.startswith("cert:") and s[5:] in produced]
                if made:  # 一链办理: an earlier member of the chain issues it, the applicant never brings it
                    entry.update(required=False, deferrable=False, commitment_allowed=False, produced_by=made[0])
                guide["materials"].append(entry)
    p = Proc(f"b_{bid}", name, guide=guide)
    intake_head(p, f"b_{bid}")
    p.par("split_all", "受理", col=3)
    first, last = body(p)
    a, b = owed_gate(p, 4, 3)
    col = p.col
    p.par("join_all", "", col=col)
    p.user("pickup", "统一出件", group="pickup", form="pickup", props={"rule": "pickup"})
    p.end("end", "办结")
    p.flow("gw_accepted", "split_all", cond="accepted == True", name="受理")
    p.flow("split_all", first)
    p.flow(last, "join_all")
    p.flow("split_all", a)
    p.flow(b, "join_all")
    p.chain("join_all", "pickup", "end")
    return p


def parallel(p: Proc, sid: str, mids: list[str], col: int, row: float = 0, prefix="call_") -> tuple[str, str]:
    p.par(f"split_{sid}", "并联审批", col=col, row=row)
    for i, x in enumerate(mids):
        p.call(f"{prefix}{x}", M[x]["guide"]["department"] + "：" + M[x]["guide"]["name"], f"rv_{x}",
               col=col + 1, row=row + i * 0.9 - (len(mids) - 1) * 0.45)
        p.flow(f"split_{sid}", f"{prefix}{x}")
        p.flow(f"{prefix}{x}", f"join_{sid}")
    p.par(f"join_{sid}", "", col=col + 2, row=row)
    return f"split_{sid}", f"join_{sid}"


def gated(p: Proc, gate: str, cond: str, col: int, inner) -> tuple[str, str]:
    """Go on only when the previous step approved; otherwise straight to pickup with the refusal notice."""
    p.xor(f"gw_{gate}", "前置事项准予？", col=col, default=f"Flow_gw_{gate}_merge_{gate}")
    first, last, end_col = inner(col + 1)
    p.xor(f"merge_{gate}", "", col=end_col)
    p.flow(f"gw_{gate}", first, cond=cond, name="准予")
    p.flow(f"gw_{gate}", f"merge_{gate}", fid=f"Flow_gw_{gate}_merge_{gate}")
    p.flow(last, f"merge_{gate}")
    return f"gw_{gate}", f"merge_{gate}"


def body_start_up(p):
    p.call("call_company_reg", "市场监管局：企业设立登记", "rv_company_reg", col=4)
    g, mrg = gated(p, "reg", approved("company_reg"), 5,
                   lambda c: (*parallel(p, "m", ["seal", "tax_invoice", "social_reg", "fund_reg"], c), c + 3))
    p.flow("call_company_reg", g)
    return "call_company_reg", mrg


def body_restaurant(p):
    p.call("call_company_reg", "市场监管局：营业执照", "rv_company_reg", col=4)

    def inner(c):
        p.par("split_insp", "联合踏勘", col=c)
        insp = {"rule": "inspection", "members": "food_permit,signboard"}
        p.user("inspect_market", "联合踏勘（市场监管）", group="market", form="joint_inspection", due="P2D", col=c + 1,
               row=-0.45, props=insp)
        p.user("inspect_urban", "联合踏勘（城管）", group="urban", form="joint_inspection", due="P2D", col=c + 1, row=0.45,
               props=insp)
        p.par("join_insp", "", col=c + 2)
        for t in ("inspect_market", "inspect_urban"):
            p.flow("split_insp", t)
            p.flow(t, "join_insp")
        p.xor("gw_insp", "踏勘通过？", col=c + 3, default="Flow_gw_insp_merge_insp")
        s, j = parallel(p, "p", ["food_permit", "signboard"], c + 4)
        p.xor("merge_insp", "", col=c + 7)
        p.flow("join_insp", "gw_insp")
        p.flow("gw_insp", s, cond="all(inspections.values())", name="通过")
        p.flow("gw_insp", "merge_insp", fid="Flow_gw_insp_merge_insp", name="未通过")
        p.flow(j, "merge_insp")
        return "split_insp", "merge_insp", c + 8
    g, mrg = gated(p, "reg", approved("company_reg"), 5, inner)
    p.flow("call_company_reg", g)
    return "call_company_reg", mrg


def body_house(p):
    p.call("call_contract_filing", "住建局：合同网签备案", "rv_contract_filing", col=4)

    def inner(c):
        s, j = parallel(p, "tr", ["deed_tax", "estate_transfer"], c)
        g2, m2 = gated(p, "tr", approved("deed_tax") + " and " + approved("estate_transfer"), c + 3,
                       lambda c2: (*parallel(p, "u", ["water_transfer", "power_transfer", "gas_transfer"], c2), c2 + 3))
        p.flow(j, g2)
        return s, m2, c + 8
    g, mrg = gated(p, "contract", approved("contract_filing"), 5, inner)
    p.flow("call_contract_filing", g)
    return "call_contract_filing", mrg


def chosen_call(p, nid, name, dispatch, coll, item, col):
    p.call(nid, name, dispatch, mi=(coll, item), col=col)


def body_joint(p):
    p.call("call_company_reg", "市场监管局：企业设立登记", "rv_company_reg", col=4)

    def inner(c):
        chosen_call(p, "call_permits", "申请人选择的后置许可（并联）", "permit_dispatch", "permits", "permit", c)
        return "call_permits", "call_permits", c + 1
    g, mrg = gated(p, "reg", approved("company_reg"), 5, inner)
    p.flow("call_company_reg", g)
    return "call_company_reg", mrg


def body_build(p):
    chosen_call(p, "call_items", "申请人选择的施工许可阶段事项（并联）", "build_dispatch", "items", "item", 4)
    return "call_items", "call_items"


def body_newborn(p):
    p.call("call_birth_cert", "卫健委：出生医学证明", "rv_birth_cert", col=4)
    g, mrg = gated(p, "birth", approved("birth_cert"), 5,
                   lambda c: (*parallel(p, "n", ["hukou_birth", "medins_enrol", "social_card"], c), c + 3))
    p.flow("call_birth_cert", g)
    return "call_birth_cert", mrg


def dispatch_process(pid: str, name: str, var: str, options: list[str]) -> Proc:
    """Route one applicant-chosen item (a multi-instance element) to its department's review."""
    p = Proc(pid, name, guide={"kind": "internal", "options": options})
    p.start("start", "开始")
    p.xor("gw_which", "哪一事项", default="Flow_gw_which_merge")
    for i, x in enumerate(options):
        p.call(f"call_{x}", M[x]["guide"]["name"], f"rv_{x}", col=2, row=i - 1)
        p.flow("gw_which", f"call_{x}", cond=f"{var} == '{x}'", name=M[x]["guide"]["name"])
        p.flow(f"call_{x}", "merge")
    p.xor("merge", "", col=3)
    p.end("end", "完成")
    p.flow("start", "gw_which")
    p.flow("gw_which", "merge", fid="Flow_gw_which_merge")
    p.flow("merge", "end")
    return p


RECTIFY_DAYS = ("P1D", "P3D", "P1D")  # 核实, 整改, 回访: 5 working days in all by default


def rectify_groups() -> list[str]:
    """The groups a bad rating can concern: every matter's department, and the front desk for bundles."""
    return sorted({m["group"] for m in MATTERS} | {"front_desk"})


def rectify_process(group: str) -> Proc:
    """差评整改 of one department (issue 14): started by the platform when an applicant rates a case 不满意 or
    非常不满意; never applied for, so not in the public catalogue (kind internal)."""
    dept = DEPTS.get(group, "政务服务中心")
    p = Proc(f"zg_{group}", f"差评整改：{dept}", guide={"kind": "internal", "purpose": "rectify", "group": group,
                                                        "department": dept})
    p.start("start", "收到差评")
    for tid, label, form, due in (("verify", "核实", "zg_verify", RECTIFY_DAYS[0]),
                                  ("fix", "整改", "zg_fix", RECTIFY_DAYS[1]),
                                  ("revisit", "回访", "zg_revisit", RECTIFY_DAYS[2])):
        p.user(tid, f"差评{label}", group=group, form=form, due=due)
    p.end("end", "整改完成")
    p.chain("start", "verify", "fix", "revisit", "end")
    return p


def instant_process() -> Proc:
    """秒批: the decision table decides clear cases with no person; a person decides the rest."""
    m = M["unemp_benefit"]
    p = Proc("m_unemp_benefit", m["guide"]["name"] + "（秒批）", guide=m["guide"])
    p.start("start", "网上申请", form="f_unemp_benefit", props={"rule": "intake"})
    p.rule("rules", "规则核验", "unemp_rules")
    p.xor("gw_auto", "规则结论", default="Flow_gw_auto_call_review")
    auto = {"rule": "auto_decision", "member": "unemp_benefit", "source": "auto"}
    p.script("auto_approve", "秒批准予", "decision = 'approve'\nopinion = '符合条件，系统自动核准'", row=-1, props=auto)
    p.script("auto_reject", "秒批不予", "decision = 'reject'\nopinion = auto_reason", col=3, row=1, props=auto)
    p.call("call_review", "人社局人工审核", "rv_unemp_benefit", col=3, row=0)
    p.xor("merge", "", col=4)
    p.end("end", "办结")
    p.chain("start", "rules", "gw_auto")
    p.flow("gw_auto", "auto_approve", cond="auto_decision == 'approve'", name="准予")
    p.flow("gw_auto", "auto_reject", cond="auto_decision == 'reject'", name="不予")
    p.flow("gw_auto", "call_review", fid="Flow_gw_auto_call_review", name="规则未覆盖")
    for t in ("auto_approve", "auto_reject", "call_review"):
        p.flow(t, "merge")
    p.flow("merge", "end")
    return p


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_unemp_rules" name="失业保险金秒批规则" namespace="http://camunda.org/schema/1.0/dmn" expressionLanguage="https://www.omg.org/spec/DMN/20191111/FEEL/" typeLanguage="https://www.omg.org/spec/DMN/20191111/FEEL/">
  <decision id="unemp_rules" name="失业保险金秒批规则">
    <decisionTable id="unemp_rules_table" hitPolicy="FIRST">
      <input id="in_months" label="累计缴费月数"><inputExpression id="ie_months" typeRef="integer"><text>insured_months</text></inputExpression></input>
      <input id="in_reason" label="离职原因"><inputExpression id="ie_reason" typeRef="string"><text>leaving_reason</text></inputExpression></input>
      <input id="in_registered" label="已失业登记"><inputExpression id="ie_registered" typeRef="boolean"><text>job_registered</text></inputExpression></input>
      <output id="out_decision" label="结论" name="auto_decision" typeRef="string" />
      <output id="out_reason" label="理由" name="auto_reason" typeRef="string" />
      <rule id="r_resigned"><inputEntry id="r1a"><text>-</text></inputEntry><inputEntry id="r1b"><text>"resigned"</text></inputEntry><inputEntry id="r1c"><text>-</text></inputEntry>
        <outputEntry id="r1o"><text>"reject"</text></outputEntry><outputEntry id="r1p"><text>"个人原因离职，不符合《失业保险条例》第十四条"</text></outputEntry></rule>
      <rule id="r_short"><inputEntry id="r2a"><text>&lt; 12</text></inputEntry><inputEntry id="r2b"><text>-</text></inputEntry><inputEntry id="r2c"><text>-</text></inputEntry>
        <outputEntry id="r2o"><text>"reject"</text></outputEntry><outputEntry id="r2p"><text>"缴费不满一年"</text></outputEntry></rule>
      <rule id="r_clear"><inputEntry id="r3a"><text>&gt;= 12</text></inputEntry><inputEntry id="r3b"><text>"dismissed","contract_ended"</text></inputEntry><inputEntry id="r3c"><text>true</text></inputEntry>
        <outputEntry id="r3o"><text>"approve"</text></outputEntry><outputEntry id="r3p"><text>"符合条件"</text></outputEntry></rule>
      <rule id="r_other"><inputEntry id="r4a"><text>-</text></inputEntry><inputEntry id="r4b"><text>-</text></inputEntry><inputEntry id="r4c"><text>-</text></inputEntry>
        <outputEntry id="r4o"><text>"manual"</text></outputEntry><outputEntry id="r4p"><text>"规则未覆盖，转人工审核"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/">
    <dmndi:DMNDiagram id="DMNDiagram_unemp_rules"><dmndi:DMNShape id="DMNShape_unemp_rules" dmnElementRef="unemp_rules"><dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape></dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""

BUNDLES = [
    ("start_up", "企业开办一件事", ["company_reg", "seal", "tax_invoice", "social_reg", "fund_reg"], body_start_up, None),
    ("restaurant", "开餐馆一件事", ["company_reg", "food_permit", "signboard"], body_restaurant, None),
    ("house", "二手房买卖过户一件事", ["contract_filing", "deed_tax", "estate_transfer", "water_transfer", "power_transfer",
                                "gas_transfer"], body_house, None),
    ("joint", "市场主体设立联审联批", ["company_reg", *PERMITS], body_joint, ("permits", PERMITS, 0)),
    ("build", "工程建设项目施工许可阶段", BUILD_ITEMS, body_build, ("items", BUILD_ITEMS, 1)),
    ("newborn", "新生儿出生一件事", ["birth_cert", "hukou_birth", "medins_enrol", "social_card"], body_newborn, None),
]


def main() -> None:
    for name, form in WINDOW_FORMS.items():
        write_form(name, form)
    for m in MATTERS:
        write_form(f"f_{m['id']}", {k: v for k, v in member_form(m).items() if k not in ("$schema", "type")})
        review_process(m).write(str(PROC / f"rv_{m['id']}.bpmn"))
        if m["id"] != "unemp_benefit":
            matter_process(m).write(str(PROC / f"m_{m['id']}.bpmn"))
    instant_process().write(str(PROC / "m_unemp_benefit.bpmn"))
    (PROC / "unemp_rules.dmn").write_text(DMN, encoding="utf-8")
    dispatch_process("permit_dispatch", "后置许可分派", "permit", PERMITS).write(str(PROC / "permit_dispatch.bpmn"))
    dispatch_process("build_dispatch", "施工许可阶段事项分派", "item", BUILD_ITEMS).write(str(PROC / "build_dispatch.bpmn"))
    for group in rectify_groups():
        rectify_process(group).write(str(PROC / f"zg_{group}.bpmn"))
    for bid, name, members, body, chosen in BUNDLES:
        extra = {}
        if chosen:
            key, options, min_items = chosen
            extra[key] = {"type": "array", "title": "选择办理的事项", "uniqueItems": True, "minItems": min_items,
                          "items": {"type": "string", **one_of({o: M[o]["guide"]["name"] for o in options})}}
        form = compose_form(name, members, FORMS, extra, chosen and (chosen[0], chosen[1]))
        if chosen:
            form["required"].append(chosen[0])
        (FORMS / f"b_{bid}.json").write_text(json.dumps(form, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        bundle_process(bid, name, members, body, chosen=chosen and {"field": chosen[0], "options": chosen[1],
                                                                     "min": chosen[2]}).write(str(PROC / f"b_{bid}.bpmn"))
    from tools import scenarios  # the scenario tests beside the diagrams, from the same data

    scenarios.main()


if __name__ == "__main__":
    main()
