"""Prometheus `/metrics`: request latency, actions (audit events by type), open tasks and cases by timeliness, timer
lag. Under gunicorn every worker is its own process, so the counters are kept in prometheus_client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set by `onewindow serve`; give `onewindow worker` the same directory and its timer
lag shows here too); open tasks and cases are counted from the database at each scrape."""
from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram("onewindow_request_seconds", "Time to answer an HTTP request",
                            ["method", "endpoint", "status"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ACTIONS = Counter("onewindow_events_total", "Audit events appended (actions and what the rules implied), by type",
                  ["type"])
TIMER_LAG = Histogram("onewindow_timer_lag_seconds", "How late a timer fired after its due time",
                      buckets=(0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600, 86400))


def observe_event(s, case, type_, payload, at, actor, group, task_id, element_id) -> None:
    ACTIONS.labels(type_).inc()


def observe_lag(lag: float) -> None:
    TIMER_LAG.observe(lag)


class OpenWork:
    """Open tasks and cases by timeliness, read from the clock rows at scrape time (one query each)."""

    def __init__(self, services):
        self.sv = services

    def collect(self):
        from sqlalchemy import and_, case, func, select

        from engine.supervision.tables import CaseClock, TaskClock

        now = self.sv.clock()
        tasks = GaugeMetricFamily("onewindow_open_tasks", "Open tasks by timeliness", labels=["state"])
        cases = GaugeMetricFamily("onewindow_open_cases", "Open cases by timeliness", labels=["state"])
        with self.sv.read() as s:
            t = TaskClock
            row = s.execute(select(func.count(), func.sum(case((t.due_at < now, 1), else_=0)),
                                   func.sum(case((and_(t.due_at >= now, t.warn_at <= now), 1), else_=0)))
                            .where(t.closed_at.is_(None))).one()
            total, over, warn = row[0] or 0, row[1] or 0, row[2] or 0
            c = CaseClock
            crow = s.execute(select(func.sum(case((c.status == "paused", 1), else_=0)),
                                    func.sum(case((and_(c.status == "open", c.due_at < now), 1), else_=0)),
                                    func.sum(case((and_(c.status == "open", c.due_at >= now, c.warn_at <= now), 1),
                                                  else_=0)),
                                    func.count()).where(c.status.in_(("open", "paused")))).one()
        for state, n in (("overdue", over), ("warning", warn), ("normal", total - over - warn)):
            tasks.add_metric([state], n)
        paused, cover, cwarn, ctotal = (x or 0 for x in crow)
        for state, n in (("paused", paused), ("overdue", cover), ("warning", cwarn),
                         ("normal", ctotal - paused - cover - cwarn)):
            cases.add_metric([state], n)
        yield tasks
        yield cases


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        for collector in (REQUEST_SECONDS, ACTIONS, TIMER_LAG):
            registry.register(_Forward(REGISTRY, collector))
    registry.register(OpenWork(current_app.extensions["onewindow"]))
    return registry


class _Forward:
    """A collector of this process's own registry, shown in the scrape's registry (single-process mode)."""

    def __init__(self, registry, collector):
        self.collector = collector

    def collect(self):
        return self.collector.collect()


LOOPBACK = ("127.0.0.1", "::1")


def _may_scrape() -> int | None:
    """None when this request may read the figures, else the status to answer. The figures name no person, but
    volumes and backlogs are the hall's business: with ONEWINDOW_METRICS_TOKEN set a scraper sends it as a bearer
    token; without one only a scraper on this machine (loopback) is answered."""
    token = current_app.config.get("METRICS_TOKEN") or os.environ.get("ONEWINDOW_METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return None if hmac.compare_digest(sent.encode(), token.encode()) else 401
    return None if request.remote_addr in LOOPBACK else 403


@bp.get("/metrics")
def metrics():
    refused = _may_scrape()
    if refused is not None:
        return Response("forbidden\n" if refused == 403 else "unauthorized\n", status=refused, mimetype="text/plain",
                        headers={"WWW-Authenticate": "Bearer"} if refused == 401 else {})
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def init_app(app) -> None:
    from engine.runtime import timers

    services = app.extensions["onewindow"]
    if observe_event not in services.observers:
        services.observers.append(observe_event)
    if observe_lag not in timers.LISTENERS:
        timers.LISTENERS.append(observe_lag)

    @app.before_request
    def _start_timer():
        g._metrics_start = time.perf_counter()

    @app.after_request
    def _record(resp):
        start = g.pop("_metrics_start", None)
        if start is not None and request.endpoint != "metrics.metrics":
            REQUEST_SECONDS.labels(request.method, request.endpoint or "unknown", str(resp.status_code)).observe(
                time.perf_counter() - start)
        return resp

    app.register_blueprint(bp)
