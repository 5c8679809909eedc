"""电子监察 pages for supervisors: the dashboard (server-drawn charts), the overdue and warning lists with drill-down
and 督办, CSV export. Who may see them is decided by engine.supervision.access; views only ask."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from engine.clock import local_date
from engine.errors import Conflict, Invalid, NotFound
from engine.messages import Message
from engine.supervision import notices, stats
from engine.supervision.access import require_supervisor
from engine.supervision.acts import PROCEDURES, TimeActs
from engine.supervision.timeliness import LABELS

from . import charts
from .auth import login_required, services
from .i18n import translate

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


def _filters(args, strict: bool = True):
    sv = services()
    depts = stats.departments(sv)
    try:
        return stats.parse_filters(args, local_date(sv.clock()), set(depts)), depts, {}
    except Invalid as exc:
        if strict:
            raise
        return stats.parse_filters({}, local_date(sv.clock())), depts, exc.fields


@bp.get("/")
@login_required
def index():
    require_supervisor(g.actor)
    filters, depts, errors = _filters(request.args, strict=False)
    data = stats.figures(services(), g.actor, filters)
    return render_template("supervisor/index.html", data=data, depts=depts, errors=errors,
                           charts=_charts(data), labels=LABELS, tables=stats.TABLES,
                           status=422 if errors else 200), (422 if errors else 200)


def _charts(data: dict) -> dict:
    t = translate
    matters = data["by_matter"][:12]
    return {k: charts.titled(v) for k, v in _drawn(data, t, matters).items()}


def _drawn(data: dict, t, matters) -> dict:
    return {
        "days": charts.columns(t("每日受理量"), [(d["day"], d["cases"]) for d in data["by_day"]]),
        "channels": charts.hbars(t("受理渠道"), [(t(CHANNELS.get(c["channel"], c["channel"])), [c["cases"]])
                                               for c in data["by_channel"]], [t("件数")]),
        "departments": charts.hbars(t("各部门受理量"), [(d["name"], [d["cases"]]) for d in data["by_department"]],
                                    [t("件数")]),
        "on_time": charts.share_bars(t("各部门按时办结率"), [(d["name"], d["on_time_rate"])
                                                          for d in data["by_department"] if d["done"]]),
        "limits": charts.hbars(t("实际用时 / 承诺时限 / 法定时限（工作日）"),
                               [(m["name"], [m["avg_used_workdays"], m["promised_days"], m["statutory_days"]])
                                for m in matters], [t("实际用时"), t("承诺时限"), t("法定时限")]),
        "waits": charts.hbars(t("办件停留环节（平均小时）"),
                              [(f"{w['name']}·{w['department_name']}", [w["avg_hours"], w["open_avg_hours"]])
                               for w in data["waits"][:12]], [t("已办平均"), t("在办平均")], "h", label_width=220),
    }


CHANNELS = {"window": "窗口", "online": "网上", "kiosk": "自助终端", "internal": "系统发起"}


@bp.get("/export.csv")
@login_required
def export():
    require_supervisor(g.actor)
    filters, _, _ = _filters(request.args)
    table = request.args.get("table", "matters")
    header, rows = stats.csv_rows(stats.figures(services(), g.actor, filters), table)
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 Chinese text correctly with a BOM
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    name = f"supervision-{table}-{filters.start}-{filters.end}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id):
    require_supervisor(g.actor)
    sv = services()
    clock = stats.case_clock(sv, g.actor, case_id)
    if clock is None:
        abort(404)
    view = sv.case_view(case_id)
    return render_template("supervisor/case.html", case=view, clock=clock, events=sv.events(case_id),
                           notices=notices.for_case(sv, case_id), labels=LABELS, procedures=PROCEDURES)


@bp.post("/cases/<int:case_id>/urge")
@login_required
def urge(case_id):
    try:
        TimeActs(services()).urge(g.actor, case_id, request.form.get("text", ""))
    except (Invalid, Conflict, NotFound) as exc:
        flash(exc.message, "error")
    else:
        flash("已督办", "ok")
    return redirect(url_for("supervisor.case", case_id=case_id))


@bp.get("/appeals")
@login_required
def appeals():
    """申诉 of 差评整改 outcomes: open ones first, each decided with a reason (engine.runtime.appeals)."""
    from engine.runtime import appeals as appeal_rules

    status = request.args.get("status") or None
    return render_template("supervisor/appeals.html", items=appeal_rules.listing(services(), g.actor, status),
                           status=status)


@bp.post("/appeals/<int:appeal_id>")
@login_required
def decide_appeal(appeal_id):
    from engine.runtime import appeals as appeal_rules

    verdict = request.form.get("verdict")
    try:
        appeal_rules.decide(services(), g.actor, appeal_id, {"upheld": True, "dismissed": False}.get(verdict),
                            request.form.get("reason", ""))
    except (Invalid, Conflict) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(Message("申诉已处理", "The appeal is decided")), "ok")
    return redirect(url_for("supervisor.appeals"))
