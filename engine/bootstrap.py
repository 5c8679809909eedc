"""Wiring: build the database engine and the service layer from the environment, and seed demo data."""
from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy import select

from .model.catalogue import check
from .db import User, database_url, make_engine, make_session_factory
from .model.deploy import deploy
from .errors import Invalid
from .runtime import notify, webhooks
from .runtime.designer import dry_run
from .runtime.services import Services
from .supervision.clocks import install as install_limits
from .window.rules import install

DEMO_PASSWORD = "demo123"
# username, display name, groups
DEMO_USERS = [
    ("admin", "系统管理员", ["admin"]),
    ("front1", "综合窗口 张敏", ["front_desk"]),
    ("front2", "综合窗口 李娜", ["front_desk"]),
    ("market1", "市场监管局 王强", ["market"]),
    ("market2", "市场监管局 赵磊", ["market"]),
    ("tax1", "税务局 陈静", ["tax"]),
    ("social1", "人社局 刘洋", ["social"]),
    ("fund1", "公积金中心 周杰", ["fund"]),
    ("police1", "公安局 吴刚", ["police"]),
    ("medins1", "医保局 冯丽", ["medins"]),
    ("health1", "卫健委 何平", ["health"]),
    ("estate1", "不动产登记中心 许诺", ["estate"]),
    ("housing1", "住建局 曹阳", ["housing"]),
    ("dev1", "发改局 彭程", ["dev"]),
    ("urban1", "城管局 蒋涛", ["urban"]),
    ("water1", "自来水公司 沈洁", ["water"]),
    ("power1", "供电公司 韩冰", ["power"]),
    ("gas1", "燃气公司 杨帆", ["gas"]),
    # the upper review levels: 审核 (科室负责人) and 审批 (分管领导), each its own group
    ("market_lead1", "市场监管局 审核 林峰", ["market_lead"]),
    ("market_head1", "市场监管局 审批 黄海", ["market_head"]),
    ("health_lead1", "卫健委 审核 罗琳", ["health_lead"]),
    ("health_head1", "卫健委 审批 梁晨", ["health_head"]),
    ("urban_lead1", "城管局 审核 宋雨", ["urban_lead"]),
    ("urban_head1", "城管局 审批 唐明", ["urban_head"]),
    ("housing_lead1", "住建局 审核 董伟", ["housing_lead"]),
    ("housing_head1", "住建局 审批 袁方", ["housing_head"]),
    ("estate_lead1", "不动产登记中心 审核 邓辉", ["estate_lead"]),
    ("pickup1", "出件窗口 孙丽", ["pickup"]),
    ("super1", "电子监察 郑华", ["supervisor"]),
    ("audit1", "审计员 钱进", ["auditor"]),
    ("citizen1", "申请人 王五", ["applicant"]),  # an applicant identity: applies online (e.g. 秒批)
    ("helper1", "帮办员 叶青", ["agent"]),  # 帮办代办: acts for an applicant who authorised them (/me/agents)
    ("designer1", "流程设计 冯蕾", ["designer"]),
]


# The demo's organisation: a city hall, two districts, a street under each and a community (code, name, level,
# parent); the users above work at the city hall, these at the hall they name.
DEMO_HALLS = [
    ("main", "市民服务中心", "city", None),
    ("east", "东区政务服务中心", "district", "main"),
    ("west", "西区政务服务中心", "district", "main"),
    ("meishan", "东区梅山街道便民服务中心", "street", "east"),
    ("chunxiao", "西区春晓街道便民服务中心", "street", "west"),
    ("meishan_c1", "梅山社区服务站", "community", "meishan"),
]
DISTRICT_DEPARTMENTS = {"market": "市场监管分局", "market_lead": "市场监管分局 审核", "market_head": "市场监管分局 审批",
                        "tax": "税务分局", "police": "公安分局", "social": "人社分局", "health": "卫健局",
                        "health_lead": "卫健局 审核", "health_head": "卫健局 审批", "urban": "城管局",
                        "urban_lead": "城管局 审核", "urban_head": "城管局 审批", "water": "供水营业厅",
                        "power": "供电营业厅", "gas": "燃气营业厅", "medins": "医保分局"}
CITY_DEPARTMENTS = {"estate": "市不动产登记中心", "estate_lead": "市不动产登记中心 审核", "housing": "市住建局",
                    "housing_lead": "市住建局 审核", "housing_head": "市住建局 审批", "fund": "市公积金中心",
                    "dev": "市发改局"}
DEMO_HALL_USERS = [
    ("front_meishan1", "梅山街道 综合窗口 陈晓", ["front_desk"], "meishan"),
    ("pickup_meishan1", "梅山街道 出件窗口 周宁", ["pickup"], "meishan"),
    ("front_east1", "东区 综合窗口 林岚", ["front_desk"], "east"),
    ("market_east1", "东区市场监管分局 赵刚", ["market"], "east"),
    ("market_lead_east1", "东区市场监管分局 审核 钱坤", ["market_lead"], "east"),
    ("market_head_east1", "东区市场监管分局 审批 孙越", ["market_head"], "east"),
    ("police_east1", "东区公安分局 李卫", ["police"], "east"),
    ("super_east1", "东区 电子监察 吴优", ["supervisor"], "east"),
    ("front_west1", "西区 综合窗口 郑洁", ["front_desk"], "west"),
    ("market_west1", "西区市场监管分局 王涛", ["market"], "west"),
    ("police_west1", "西区公安分局 冯军", ["police"], "west"),
    ("front_chunxiao1", "春晓街道 综合窗口 何敏", ["front_desk"], "chunxiao"),
]


def seed_org(services: Services) -> list[str]:
    """The demo's halls and their departments, those not there yet (idempotent)."""
    from .db import Hall
    from .runtime import org

    with services.read() as s:
        have = set(s.scalars(select(Hall.code)).all())
    created = []
    for code, name, level, parent in DEMO_HALLS:
        if code in have:
            continue
        org.add_hall(services, code, name, level, parent)
        created.append(code)
        if level == "district":
            for group, dept in DISTRICT_DEPARTMENTS.items():
                org.add_department(services, code, group, name[:2] + dept)
        elif code == "main":  # the city decides the city-level matters, and what it accepts itself (上级可办)
            for group, dept in DISTRICT_DEPARTMENTS.items():
                org.add_department(services, code, group, "市" + dept.replace("分局", "局"))
            for group, dept in CITY_DEPARTMENTS.items():
                org.add_department(services, code, group, dept)
    return created


def build_services(url: str | None = None, seal_key=None, storage=None) -> Services:
    """A service layer with its own database engine, the window's rules and the clocks (`seal_key` and `storage`
    default to the hall's; `onewindow test` passes throw-away ones)."""
    engine = make_engine(url or database_url())
    services = Services(make_session_factory(engine))
    install(services, seal_key, storage)
    install_limits(services)
    webhooks.install(services)
    notify.install(services)
    return services


@lru_cache(maxsize=8)
def services_for(url: str | None = None) -> Services:
    """One service layer per database for this process (web workers, CLI)."""
    return build_services(url)


def deploy_catalogue(services: Services, paths: list[str] | None = None):
    result = check(paths)
    if not result.ok:
        raise Invalid("the catalogue has errors", problem_fields(result.problems))
    with services.uow() as s:
        return deploy(s, result, only_files=_only(paths))


def problem_fields(problems) -> dict[str, str]:
    """Problems as Invalid fields: `FILE:LINE: ELEMENT` -> message(s)."""
    out: dict[str, str] = {}
    for p in problems:
        key = f"{p.file}:{p.line or 0}: {p.element or '-'}"
        out[key] = f"{out[key]}; {p.message}" if key in out else p.message
    return out


def _only(paths: list[str] | None) -> set[str] | None:
    """The model files named (None: every process, also when only forms are named)."""
    only = {os.path.basename(p) for p in paths if not p.endswith(".json")} if paths else None
    return only or None


def preview_catalogue(services: Services, paths: list[str] | None = None):
    """What `deploy_catalogue` would do, per process (engine.runtime.designer.dry_run); deploys nothing."""
    result = check(paths)
    if not result.ok:
        raise Invalid("the catalogue has errors", problem_fields(result.problems))
    return dry_run(services, result, _only(paths))


def seed_demo(services: Services) -> list[str]:
    """Deploy the catalogue and create the documented demo users (idempotent)."""
    deploy_catalogue(services)
    seed_org(services)
    created = []
    with services.uow() as s:
        existing = set(s.scalars(select(User.username)).all())
    for username, name, groups, hall in [(*u, "main") for u in DEMO_USERS] + DEMO_HALL_USERS:
        if username not in existing:
            services.add_user(username, DEMO_PASSWORD, groups, name, hall)
            created.append(username)
    seed_applicant(services, "citizen1", DEMO_APPLICANT)
    return created


# citizen1's confirmed identity, so the demo applicant applies through /me as a signed-up one would
DEMO_APPLICANT = {"type": "person", "name": "王五", "id_number": "330206198505050022", "phone": "13900000000"}


def seed_applicant(services: Services, username: str, identity: dict) -> bool:
    """Give an existing applicant account a confirmed identity (idempotent; False if it has one or its phone is
    taken)."""
    from .db import Applicant

    with services.uow() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or s.get(Applicant, user.id) is not None or s.scalar(
                select(Applicant.user_id).where(Applicant.phone == identity["phone"])) is not None:
            return False
        now = services.clock()
        s.add(Applicant(user_id=user.id, type=identity["type"], name=identity["name"], phone=identity["phone"],
                        id_number=identity.get("id_number"), credit_code=identity.get("credit_code"), legal_rep=None,
                        code_hash="", code_expires=None, code_attempts=0, verified_at=now, created_at=now))
    return True
