"""The service guide (办事指南) of a matter or bundle, kept INSIDE its BPMN file as process-level extension
properties: `<bpmn:extensionElements><ow:guide xmlns:ow="https://onewindow.example/bpmn/guide">{json}</ow:guide>`.

Why inside the BPMN: the guide (materials, time limits, handling) and the flow change together and must deploy
as one version; a case is judged against the guide of the version it started on. A file without a guide still
runs: `guide_of` derives defaults from the diagram, and `check_guide` warns.
"""
from __future__ import annotations

import json
import re

from .bpmn import CAMUNDA_NS, NS, parse_xml
from ..errors import BpmnProblem

GUIDE_NS = "https://onewindow.example/bpmn/guide"
TYPES = {"行政许可", "行政确认", "行政给付", "行政备案", "行政征收", "行政裁决", "行政奖励", "其他行政权力", "公共服务", "一件事"}
HANDLING = {"即办件", "承诺件"}
ONLINE = {"全程网办", "网上预审", "窗口办理"}
SCOPES = {"本级", "区内通办", "全市通办", "全省通办", "跨省通办"}  # where a matter may be accepted (通办)
SUBSTITUTE = re.compile(r"^(cert|record|case):[a-z0-9_]+$")
# The levels a matter is decided at (市、区/县、街道/乡镇、社区/村), highest first; a guide's `level` names one, and
# `departments` may name the deciding department (group) per level where it differs from the guide's `group`.
LEVELS = ("city", "district", "street", "community")
LEVEL_NAMES = {"city": "市级", "district": "区级", "street": "街道级", "community": "社区级"}
REQUIRED = ("code", "name", "type", "department", "handling", "statutory_days", "promised_days", "materials")


def guide_element(process_element):
    return process_element.find(f"bpmn:extensionElements/{{{GUIDE_NS}}}guide", NS)


def read_guide(process_element) -> dict | None:
    """The declared guide, or None when the process has none (raises ValueError when it is not JSON)."""
    el = guide_element(process_element)
    if el is None:
        return None
    guide = json.loads(el.text or "")
    if not isinstance(guide, dict):
        raise ValueError("the guide must be a JSON object")
    return guide


def default_guide(process_element) -> dict:
    """What the diagram itself tells: name, departments (candidate groups), promised days (sum of due dates)."""
    groups, days = [], 0
    for task in process_element.iter(f"{{{NS['bpmn']}}}userTask"):
        for g in (task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").split(","):
            if g.strip() and g.strip() not in groups:
                groups.append(g.strip())
        m = re.fullmatch(r"P(\d+)D", task.get(f"{{{CAMUNDA_NS}}}dueDate") or "")
        days += int(m.group(1)) if m else 0
    pid = process_element.get("id")
    return {"code": pid, "name": process_element.get("name") or pid, "type": "公共服务",
            "department": "、".join(g for g in groups if g not in ("front_desk", "pickup")) or "政务服务中心",
            "legal_basis": [], "handling": "承诺件", "statutory_days": days, "promised_days": days, "fees": [],
            "visits": 1, "online": "窗口办理", "scope": "本级", "materials": [], "derived": True}


def guide_of(process_element) -> dict:
    """The declared guide; defaults from the diagram when there is none. A demo sample (`{"kind": "sample"}`) runs on
    the defaults too, marked so the public catalogue leaves it out."""
    try:
        guide = read_guide(process_element)
    except ValueError:
        guide = None
    if guide is not None and guide.get("kind") == "sample":
        return dict(default_guide(process_element), kind="sample")
    return guide if guide is not None else default_guide(process_element)


def guide_from_bpmn(data: bytes | str, process_id: str) -> dict:
    """The guide of one process in a BPMN file (defaults when it declares none)."""
    tree = parse_xml(data.encode("utf-8") if isinstance(data, str) else data, process_id)
    for proc in tree.getroot().iterfind("bpmn:process", NS):
        if proc.get("id") == process_id:
            return guide_of(proc)
    raise KeyError(process_id)


def check_guide(process_element, file: str, lines: dict[str, int]) -> list[BpmnProblem]:
    """Problems of one process's guide: errors, and severity='warning' ones that do not block deployment."""
    pid = process_element.get("id")
    el = guide_element(process_element)
    line = el.sourceline if el is not None else lines.get(pid, process_element.sourceline)

    def err(msg, severity="error"):
        return BpmnProblem(file, line, pid, f"guide: {msg}", severity)

    if el is None:
        return [err("no service guide (办事指南); defaults are derived from the diagram", "warning")]
    try:
        g = read_guide(process_element)
    except ValueError as exc:
        return [err(f"not valid JSON: {exc}")]
    if g.get("kind") == "internal":  # a department's review or a dispatcher, never applied for on its own
        return []
    if g.get("kind") == "sample":
        return [err("no service guide (a demo sample, not listed in the catalogue); defaults are derived from the "
                    "diagram", "warning")]
    out = [err(f"missing '{k}'") for k in REQUIRED if k not in g]
    for key, allowed in (("type", TYPES), ("handling", HANDLING), ("online", ONLINE), ("scope", SCOPES)):
        if key in g and g[key] not in allowed:
            out.append(err(f"{key} '{g[key]}' is not one of {', '.join(sorted(allowed))}"))
    days = {k: g.get(k) for k in ("statutory_days", "promised_days")}
    if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in days.values()):
        if days["promised_days"] > days["statutory_days"]:
            out.append(err(f"promised time ({days['promised_days']} working days) exceeds the statutory limit "
                           f"({days['statutory_days']})"))
        elif days["promised_days"] == days["statutory_days"] and days["statutory_days"] > 0:
            out.append(err("promised time equals the statutory limit (承诺时限 should be shorter)", "warning"))
        if g.get("handling") == "即办件" and days["promised_days"] != 0:
            out.append(err("a 即办件 is completed on the spot: promised_days must be 0"))
    else:
        out += [err(f"{k} must be a whole number of working days >= 0") for k, v in days.items() if k in g
                and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0)]
    negative = g.get("negative_list")
    if negative is not None and not (isinstance(negative, dict) and str(negative.get("reason") or "").strip()):
        out.append(err("negative_list (负面清单) needs the reason more than one visit is needed"))
    if "visits" in g and g["visits"] not in (0, 1) and negative is None:
        out.append(err(f"visits {g['visits']} > 1: list the matter on the 负面清单 or cut the visits", "warning"))
    for fee in g.get("fees") or []:
        if not isinstance(fee, dict) or not isinstance(fee.get("amount"), (int, float)) or not fee.get("basis"):
            out.append(err(f"fee {fee!r} needs a numeric amount and a basis"))
    seen = set()
    materials = g.get("materials") if isinstance(g.get("materials"), list) else []
    if "materials" in g and not isinstance(g["materials"], list):
        out.append(err("materials must be a list"))
    for m in materials:
        mid = m.get("id") if isinstance(m, dict) else None
        if not mid or not isinstance(mid, str):
            out.append(err(f"material {m!r} has no id"))
            continue
        if mid in seen:
            out.append(err(f"material id '{mid}' is not unique"))
        seen.add(mid)
        if not m.get("name"):
            out.append(err(f"material '{mid}' has no name"))
        for flag in ("required", "deferrable", "commitment_allowed"):
            if flag in m and not isinstance(m[flag], bool):
                out.append(err(f"material '{mid}': {flag} must be true or false"))
        if (m.get("deferrable") or m.get("commitment_allowed")) and not m.get("required", True):
            out.append(err(f"material '{mid}' is optional; 容缺/告知承诺 on it means nothing", "warning"))
        for sub in m.get("substitutes") or []:
            if not isinstance(sub, str) or not SUBSTITUTE.match(sub):
                out.append(err(f"material '{mid}': substitute {sub!r} must look like cert:TYPE, record:NAME or case:ID"))
    if "short_name" in g and not (isinstance(g["short_name"], str) and g["short_name"].strip()):
        out.append(err("short_name must be a non-empty text"))
    if "keywords" in g and not (isinstance(g["keywords"], list) and all(isinstance(k, str) and k.strip()
                                                                          for k in g["keywords"])):
        out.append(err("keywords must be a list of non-empty texts"))
    if "level" in g and g["level"] not in LEVELS:
        out.append(err(f"level '{g['level']}' is not one of {', '.join(LEVELS)}"))
    depts = g.get("departments")
    if depts is not None and not (isinstance(depts, dict) and all(k in LEVELS and isinstance(v, str) and v
                                                                  for k, v in depts.items())):
        out.append(err(f"departments must map a level ({', '.join(LEVELS)}) to a department group"))
    cert = g.get("certificate")
    if cert is not None and not (isinstance(cert, dict) and cert.get("type") and cert.get("name")):
        out.append(err("certificate needs a type and a name"))
    return out
