"""The organisation as data: halls at four levels (市、区/县、街道/乡镇、社区/村), each with a parent one level up, the
departments present at each hall, and the hall a user works at.

Why data and not configuration: halls open, merge and move between levels; a case records the hall that accepted it
and the authority (hall + department) that decides it, so the tree must be read from the same database the case is.
What each user may see follows from it (engine.runtime.access): their own hall, and for supervisors, auditors and
administrators every hall below theirs too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from ..db import Group, Hall, HallDepartment, User
from ..errors import Conflict, Invalid, NotFound
from ..messages import Message
from ..model.guide import LEVEL_NAMES, LEVELS

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
OVERSEEING = frozenset({"admin", "supervisor", "auditor"})  # see the halls below theirs as well
DEFAULT_HALL = "main"  # the hall existing single-hall data migrates to


@dataclass(frozen=True)
class HallInfo:
    code: str
    name: str
    level: str
    parent: str | None


class Org:
    """A snapshot of the hall tree (small: read whole, once per use)."""

    def __init__(self, halls: list[HallInfo], departments: dict[str, dict[str, str]] | None = None):
        self.halls = {h.code: h for h in halls}
        self.children: dict[str | None, list[str]] = {}
        for h in halls:
            self.children.setdefault(h.parent, []).append(h.code)
        self.departments = departments or {}

    def __bool__(self) -> bool:
        return bool(self.halls)

    def chain(self, code: str) -> list[HallInfo]:
        """The hall and every hall above it, nearest first."""
        out, seen = [], set()
        while code is not None and code in self.halls and code not in seen:
            seen.add(code)
            out.append(self.halls[code])
            code = self.halls[code].parent
        return out

    def below(self, code: str) -> set[str]:
        """The hall and every hall under it."""
        out, todo = set(), [code]
        while todo:
            c = todo.pop()
            if c not in out:
                out.add(c)
                todo += self.children.get(c, [])
        return out

    def visible(self, code: str | None, groups) -> frozenset | None:
        """The halls whose cases and tasks a user of `groups` at hall `code` sees (None: no organisation, all)."""
        if code is None or code not in self.halls:
            return None if not self.halls else frozenset()
        return frozenset(self.below(code) if set(groups) & OVERSEEING else {code})

    def city_of(self, code: str) -> str | None:
        """The city-level hall above (or at) a hall; the top of its tree when there is none."""
        chain = self.chain(code)
        return next((h.code for h in chain if h.level == "city"), chain[-1].code if chain else None)

    def competent(self, accepting: str, level: str | None, scope: str | None, chosen: str | None = None) -> HallInfo:
        """通办: the authority that decides a matter accepted at `accepting` — `chosen` (a hall of the matter's level
        the front desk routes it to) when the matter's `scope` lets this hall accept for it, else the nearest one
        above (`authority`). Refused, saying why, when the scope does not cover the accepting hall:
        本级 — only at the deciding hall; 区内通办 — a hall under it; 全市通办 — any hall of the same city;
        全省通办 / 跨省通办 — any hall."""
        here = self.halls.get(accepting)
        if here is None:
            raise Invalid(Message(f"受理大厅 {accepting} 不存在", f"no such hall: {accepting}"))
        if chosen is None:
            found = self.authority(accepting, level)
        else:
            found = self.halls.get(chosen)
            if found is None:
                raise Invalid(Message(f"主管大厅 {chosen} 不存在", f"no such hall: {chosen}"),
                              {"authority": Message("大厅不存在", "no such hall")})
            if level and found.level != level:
                raise Invalid(Message(f"该事项由{LEVEL_NAMES[level]}决定，{found.name}不是{LEVEL_NAMES[level]}大厅",
                                      f"this matter is decided at {level} level; {found.code} is a {found.level} hall"),
                              {"authority": Message("层级不符", "not a hall of the deciding level")})
        scope = scope or "本级"
        chain = {h.code for h in self.chain(accepting)}
        covered = (found.code == accepting if scope == "本级" else
                   found.code in chain if scope == "区内通办" else
                   self.city_of(found.code) == self.city_of(accepting) if scope == "全市通办" else True)
        if not covered:
            where = {"本级": "只在主管大厅受理", "区内通办": "只在主管大厅及其下级大厅受理",
                     "全市通办": "只在本市大厅受理"}[scope]
            raise Invalid(Message(f"该事项为{scope}，{where}：请到{found.name}办理（{here.name}不能受理）",
                                  f"the matter's scope is {scope}: {here.code} cannot accept it for {found.code}"),
                          {"hall": Message(f"{scope}：本大厅不能受理", f"{scope}: not accepted at this hall")})
        return found

    def candidates(self, accepting: str, level: str | None, scope: str | None) -> list[HallInfo]:
        """The authorities a front desk at `accepting` may route a matter to (通办), the default one first; empty
        when the scope does not let this hall accept it at all."""
        try:
            default = self.competent(accepting, level, scope)
        except Invalid:
            return []
        out = [default]
        for h in sorted(self.halls.values(), key=lambda h: h.code):
            if h.code == default.code or (level and h.level != level):
                continue
            try:
                self.competent(accepting, level, scope, h.code)
            except Invalid:
                continue
            out.append(h)
        return out

    def forwarded(self, authority: str, level: str) -> str:
        """转报: the hall of `level` at or above the deciding authority, where a step marked with that level is done
        (the authority itself when the tree has no such hall above it)."""
        return next((h.code for h in self.chain(authority) if h.level == level), authority)

    def authority(self, accepting: str, level: str | None) -> HallInfo:
        """The hall that decides a matter of `level` accepted at `accepting`: the nearest hall of that level at or
        above it; a matter of a lower level accepted higher up is decided where it was accepted (上级可办);
        a matter of a level the chain above has no hall of is refused, saying so."""
        chain = self.chain(accepting)
        if not chain:
            raise Invalid(Message(f"受理大厅 {accepting} 不存在", f"no such hall: {accepting}"))
        if not level:
            return chain[0]
        for h in chain:
            if h.level == level:
                return h
        here = chain[0]
        if LEVELS.index(level) > LEVELS.index(here.level):
            return here
        raise Invalid(Message(f"该事项由{LEVEL_NAMES[level]}决定，{here.name}之上没有{LEVEL_NAMES[level]}大厅",
                              f"this matter is decided at {level} level; no {level} hall above {here.name}"),
                      {"hall": Message("无上级主管大厅", "no competent hall above")})


def load(s) -> Org:
    halls = [HallInfo(h.code, h.name, h.level, h.parent) for h in s.scalars(select(Hall).order_by(Hall.code)).all()]
    departments: dict[str, dict[str, str]] = {}
    if halls:
        for d in s.scalars(select(HallDepartment)).all():
            departments.setdefault(d.hall, {})[d.group_name] = d.name
    return Org(halls, departments)


def authority_choices(services, actor, guide: dict) -> list[dict]:
    """For a front desk's intake page: the halls it may route this matter to (the default first), or [] when there
    is no organisation or no choice to make."""
    if getattr(actor, "hall", None) is None or not guide.get("level"):
        return []
    with services.read() as s:
        found = load(s).candidates(actor.hall, guide.get("level"), guide.get("scope"))
    return [{"code": h.code, "name": h.name} for h in found] if len(found) > 1 else []


def default_hall(s) -> str | None:
    """Where a user added without a hall goes: the only top hall (None when there is no organisation); more than one
    top hall and the caller must say."""
    roots = s.scalars(select(Hall.code).where(Hall.parent.is_(None))).all()
    if not roots:
        return None
    if len(roots) == 1:
        return roots[0]
    raise Invalid(Message("请指定所属大厅", "name the user's hall (--hall)"),
                  {"hall": Message(f"可选：{'、'.join(sorted(roots))}…", "required: there is more than one top hall")})


def check_hall(s, code: str | None) -> str | None:
    if code is None:
        return default_hall(s)
    if s.get(Hall, code) is None:
        raise Invalid(Message(f"大厅 {code} 不存在", f"no such hall: {code}"),
                      {"hall": Message("大厅不存在", "no such hall")})
    return code


def add_hall(services, code: str, name: str, level: str, parent: str | None = None) -> dict:
    """A new hall; a parent must be one level (or more) above it."""
    problems = {}
    if not isinstance(code, str) or not CODE.match(code):
        problems["code"] = Message("编码为小写字母、数字、-、_，至多 32 位", "lowercase letters, digits, - and _, up to 32")
    if not str(name or "").strip() or len(name) > 200:
        problems["name"] = Message("名称必填，至多 200 字", "required, up to 200 characters")
    if level not in LEVELS:
        problems["level"] = Message(f"层级：{'、'.join(LEVELS)}", f"one of {', '.join(LEVELS)}")
    if problems:
        raise Invalid(Message("大厅信息有误", "the hall is not valid"), problems)
    with services.uow() as s:
        if s.get(Hall, code) is not None:
            raise Conflict(f"hall {code} already exists")
        if parent is not None:
            up = s.get(Hall, parent)
            if up is None:
                raise Invalid(Message(f"上级大厅 {parent} 不存在", f"no such parent hall: {parent}"),
                              {"parent": Message("不存在", "no such hall")})
            if LEVELS.index(up.level) >= LEVELS.index(level):
                raise Invalid(Message(f"上级大厅 {parent} 的层级（{up.level}）应高于 {level}",
                                      f"the parent ({up.level}) must be above {level}"),
                              {"parent": Message("层级应更高", "must be a higher level")})
        s.add(Hall(code=code, name=name.strip(), level=level, parent=parent, created_at=services.clock()))
    return {"code": code, "name": name.strip(), "level": level, "parent": parent}


def add_department(services, hall: str, group: str, name: str) -> dict:
    """A department (group) present at a hall: its tasks for cases this hall decides land in its inbox there."""
    if not isinstance(group, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", group or ""):
        raise Invalid(Message("部门组名有误", "the group: lowercase letters, digits and _"),
                      {"group": Message("小写字母、数字、_", "lowercase letters, digits and _")})
    with services.uow() as s:
        if s.get(Hall, hall) is None:
            raise NotFound(f"no such hall: {hall}")
        if s.get(HallDepartment, (hall, group)) is not None:
            raise Conflict(f"department {group} is already at hall {hall}")
        if s.get(Group, group) is None:
            s.add(Group(name=group, title=name or group))
            s.flush()
        s.add(HallDepartment(hall=hall, group_name=group, name=(name or group).strip()))
    return {"hall": hall, "group": group, "name": name}


def show(services) -> list[dict]:
    """The tree, depth first: each hall with its level, departments and users."""
    with services.read() as s:
        org = load(s)
        users: dict[str, list[str]] = {}
        for username, hall in s.execute(select(User.username, User.hall).where(User.hall.is_not(None))
                                        .order_by(User.username)).all():
            users.setdefault(hall, []).append(username)
    out = []

    def walk(code: str, depth: int) -> None:
        h = org.halls[code]
        out.append({"code": h.code, "name": h.name, "level": h.level, "parent": h.parent, "depth": depth,
                    "departments": dict(sorted(org.departments.get(code, {}).items())), "users": users.get(code, [])})
        for child in sorted(org.children.get(code, [])):
            walk(child, depth + 1)

    for root in sorted(org.children.get(None, [])):
        walk(root, 0)
    return out
