"""/api/v1 for 审管联动: regulators' findings coming back (signed, no bearer token) and the webhook deliveries going
out (administrators). Declared with web/api.py's `operation`; the decisions are the engine's (engine.window.findings,
engine.runtime.webhooks)."""
from __future__ import annotations

from flask import g, request

from engine.runtime import webhooks
from engine.window import findings

from . import apimodels as M
from .api import _send, operation
from .auth import services


def _regulator() -> None:
    """The signature is checked on the raw body before anything else is read from it (401 otherwise)."""
    g.regulator = findings.authenticate(services(), request.headers.get("X-Regulator"),
                                        request.get_data(cache=True), request.headers.get(webhooks.HEADER))


@operation("POST", "/regulator/findings", "审管联动: a registered regulator's finding on a certificate; `revoke` "
           "revokes it with the finding as the reason (an audited event); the same finding again answers the same",
           M.FindingResult, body=M.Finding, public=True, auth=_regulator, errors=(401, 404, 409, 422),
           headers={"X-Regulator": "the regulator's registered name",
                    "X-Onewindow-Signature": "sha256=<hex HMAC-SHA256 of the raw body with the regulator's secret>"})
def regulator_finding(body: M.Finding):
    result = findings.receive(services(), g.regulator, request.get_data(cache=True), body.certificate, body.finding,
                              body.action)
    return _send(M.FindingResult, result)


@operation("GET", "/webhooks", "Regulators' webhook subscriptions with their delivery counts (administrators)",
           list[M.Subscription], errors=(401, 403))
def webhook_subscriptions():
    webhooks.deliveries(services(), g.api_actor, limit=1)  # administrators only (decided there)
    return _send(list[M.Subscription], webhooks.subscriptions(services()))


@operation("GET", "/webhooks/deliveries", "Webhook deliveries, newest first: pending, delivered or failed, with "
           "attempts and the last error (administrators)", list[M.Delivery], query=M.DeliveryQuery,
           errors=(401, 403, 422))
def webhook_deliveries(query: M.DeliveryQuery):
    return _send(list[M.Delivery], webhooks.deliveries(services(), g.api_actor, query.status, query.limit))
