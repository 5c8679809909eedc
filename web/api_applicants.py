"""/api/v1 for applicants: sign-up and confirmation of the mobile (public, throttled in the engine), and the
applicant's own cases under /me (engine.runtime.portal decides what an applicant may see and do)."""
from __future__ import annotations

from flask import g, request

from engine import readmodels as catalog
from engine.errors import Invalid, NotFound
from engine.messages import Message
from engine.runtime import agents, applicants, online_acts, portal, ratings

from . import apimodels as M
from .api import _case_json, _request_hash, _send, bp, materials_of, operation
from .auth import services
from .papers import paper_pdf, verify_url


@operation("POST", "/applicants", "Sign up as an applicant (person or business); a 6-digit code goes to the mobile "
           "through the outbox, the account is inactive until confirmed (throttled per address)", M.ApplicantProfile,
           body=M.SignUp, public=True, status=201, errors=(409, 422, 429))
def sign_up(body: M.SignUp):
    profile = applicants.sign_up(services(), body.model_dump(exclude_none=True), request.remote_addr)
    return _send(M.ApplicantProfile, profile, 201)


@operation("POST", "/applicants/verify", "Confirm the mobile with its code: the account becomes active and signs in "
           "with the phone as user name (a few wrong codes void it)", M.ApplicantProfile, body=M.Confirm,
           public=True, errors=(422, 429))
def verify(body: M.Confirm):
    return _send(M.ApplicantProfile, applicants.verify(services(), body.phone, body.code, request.remote_addr))


# ---------------------------------------------------------------- /me: the applicant's own cases
# 帮办代办: an agent sends the principal's mobile number; a valid authorisation must cover the matter and the act
ACTING = {"On-Behalf-Of": "an agent acting for an applicant who authorised them: that applicant's mobile number "
                          "(GET /me/authorisations lists whom; 403 without a valid authorisation covering the act)"}
@operation("GET", "/me/cases", "My cases (applicants), newest first; ID numbers masked", list[M.MyCaseBrief],
           query=M.MyQuery, errors=(401, 403, 422), headers=ACTING)
def my_cases(query: M.MyQuery):
    return _send(list[M.MyCaseBrief], portal.my_cases(services(), g.api_actor, query.limit))


@operation("POST", "/me/cases", "Apply online for a matter or bundle as myself: the same validation as at a window, "
           "channel online, the applicant block from my confirmed identity; the front desk then accepts it (预审)",
           M.MyCase, body=M.MyNewCase, status=201, errors=(401, 403, 404, 409, 422),
           also={200: "the case an earlier request with this Idempotency-Key started"},
           headers={"Idempotency-Key": "the same key and body again return the same case (200); another body: 409",
                    **ACTING})
def my_apply(body: M.MyNewCase):
    if not catalog.exists(services(), body.matter):
        raise Invalid(f"no such matter: {body.matter}", {"matter": "事项不存在 (no such matter)"})
    materials, files = materials_of(body.materials)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 200 and key.isprintable()):
        raise Invalid("Idempotency-Key: 1 to 200 printable characters", {"Idempotency-Key": "应为 1 到 200 个可见字符"})
    case = portal.apply(services(), g.api_actor, body.matter, body.data, materials, files, idempotency_key=key,
                        request_hash=_request_hash() if key else None)
    view = portal.my_case(services(), g.api_actor, case["id"])
    return _send(M.MyCase, _my_json(view), 200 if case.get("replayed") else 201)


@operation("GET", "/me/cases/{case_id}", "One of my cases: status, steps, due date, what is owed, certificates and "
           "my rating (another applicant's case is not found)", M.MyCase, errors=(401, 403, 404),
           headers=ACTING)
def my_case(case_id: int):
    return _send(M.MyCase, _my_json(portal.my_case(services(), g.api_actor, case_id)))


@operation("POST", "/me/cases/{case_id}/rating", "好差评: rate a finished case of mine once (一次一评), 5 非常满意 .. 1 "
           "非常不满意, with an optional comment and tags; 不满意 or worse starts a 差评整改 of the department "
           "concerned", M.RatingOut, body=M.RatingIn, status=201, errors=(401, 403, 404, 409, 422),
           headers=ACTING)
def rate(case_id: int, body: M.RatingIn):
    out = ratings.rate(services(), g.api_actor, case_id, body.level, body.comment, list(body.tags))
    return _send(M.RatingOut, out, 201)


@operation("GET", "/me/cases/{case_id}/documents", "The papers of one of my cases: documents (受理通知书, "
           "一次性告知书, 不予受理决定书, 补正告知书, decisions) and e-certificates, each with its PDF and verification "
           "page (another applicant's case is not found)", list[M.MyPaper], errors=(401, 403, 404))
def my_papers(case_id: int):
    return _send(list[M.MyPaper], [_paper_json(case_id, p) for p in portal.papers(services(), g.api_actor, case_id)])


@operation("GET", "/me/cases/{case_id}/documents/{number}.pdf", "A document or e-certificate of one of my cases as "
           "printed (seal, QR code, CJK font embedded); another case's paper is not found", None,
           errors=(401, 403, 404), media_type="application/pdf")
def my_paper_pdf(case_id: int, number: str):
    found = portal.paper(services(), g.api_actor, case_id, number)
    return paper_pdf(found["number"], g.api_actor)


def _paper_json(case_id: int, p: dict) -> dict:
    return dict(p, pdf_url=f"/api/v1/me/cases/{case_id}/documents/{p['number']}.pdf", verify_url=verify_url(p["number"]))


def _my_json(view: dict) -> dict:
    return dict(_case_json(view), rating=view.get("rating"), may_rate=view.get("may_rate", False),
                agent=view.get("agent"), steps=view.get("steps") or [], acts=view.get("acts"))


# ---------------------------------------------------------------- 帮办代办: authorisations and acting for an applicant
ON_BEHALF_OF = "On-Behalf-Of"


@bp.before_request
def _on_behalf_of():
    """`On-Behalf-Of: <principal's mobile>` on /api/v1/me/cases...: the signed-in agent acts for that applicant
    (engine.runtime.agents decides whether a valid authorisation allows it, and each act's scope)."""
    principal = request.headers.get(ON_BEHALF_OF)
    if principal is None:
        return
    if not request.path.startswith("/api/v1/me/cases") or g.get("api_actor") is None:
        raise Invalid(f"{ON_BEHALF_OF} applies to /api/v1/me/cases only",
                      {ON_BEHALF_OF: Message("仅用于 /api/v1/me/cases", "only for /api/v1/me/cases")})
    g.api_actor = agents.acting(services(), g.api_actor, principal.strip())


def _record_id(auth_id: str) -> int:
    if not auth_id.isdigit() or not 0 < int(auth_id) < 2 ** 31:
        raise NotFound(f"no such authorisation: {auth_id}")
    return int(auth_id)


@operation("GET", "/me/authorisations", "帮办代办: the authorisations I granted, those naming me as agent, and whom I "
           "may act for now", M.Authorisations, errors=(401,))
def my_authorisations():
    out = agents.mine(services(), g.api_actor)
    return _send(M.Authorisations, dict(out, may_act_for=agents.may_act_for(services(), g.api_actor)))


@operation("POST", "/me/authorisations", "帮办代办: authorise an agent (another applicant by mobile number, or a hall's "
           "帮办员) to act for me on some matters (or all) and acts until an expiry; the agent then sends "
           "On-Behalf-Of: <my mobile> under /api/v1/me/cases", M.Authorisation, body=M.AuthorisationIn, status=201,
           errors=(401, 403, 422))
def grant_authorisation(body: M.AuthorisationIn):
    return _send(M.Authorisation, agents.grant(services(), g.api_actor, body.model_dump()), 201)


@operation("DELETE", "/me/authorisations/{auth_id}", "帮办代办: revoke an authorisation I granted (at once)",
           M.Authorisation, errors=(401, 403, 404))
def revoke_authorisation(auth_id: str):
    return _send(M.Authorisation, agents.revoke(services(), g.api_actor, _record_id(auth_id)))


@operation("POST", "/authorisations", "帮办代办 at the window: the front desk records, on the applicant's signed paper, "
           "an authorisation of a hall's 帮办员 (the record names the clerk who made it)", M.Authorisation,
           body=M.WindowAuthorisationIn, status=201, errors=(401, 403, 422))
def window_authorisation(body: M.WindowAuthorisationIn):
    values = body.model_dump()
    principal = values.pop("principal")
    return _send(M.Authorisation, agents.grant_at_window(services(), g.api_actor, principal, values), 201)


# ---------------------------------------------------------------- /me: acting on my case online (engine.runtime.online_acts)
def _answer(case_id: int, rule: str, body: M.MyAnswer):
    online_acts.answer(services(), g.api_actor, case_id, rule, list(body.supplied), dict(body.files) or None,
                       body.remark, body.task)
    return _send(M.MyCase, _my_json(portal.my_case(services(), g.api_actor, case_id)))


@operation("POST", "/me/cases/{case_id}/correction", "补正 online: answer the reviewer's open 补正 request on my online "
           "case with the items asked for and their files (uploaded first with POST /files); the review resumes",
           M.MyCase, body=M.MyAnswer, errors=(401, 403, 404, 409, 422))
def my_correction(case_id: int, body: M.MyAnswer):
    return _answer(case_id, "correction", body)


@operation("POST", "/me/cases/{case_id}/supply", "补齐 online: bring every deferred (容缺) material of my online case, "
           "with their files", M.MyCase, body=M.MyAnswer, errors=(401, 403, 404, 409, 422))
def my_supply(case_id: int, body: M.MyAnswer):
    return _answer(case_id, "supply", body)


@operation("PUT", "/me/cases/{case_id}/delivery", "Choose how the result reaches me: 窗口领取, or 快递送达 with a "
           "recipient, phone and address; allowed until the pickup is done", M.DeliveryOut, body=M.DeliveryIn,
           errors=(401, 403, 404, 409, 422))
def my_delivery(case_id: int, body: M.DeliveryIn):
    out = online_acts.choose_delivery(services(), g.api_actor, case_id, body.method, body.name, body.phone, body.address)
    return _send(M.DeliveryOut, out)


@operation("POST", "/me/cases/{case_id}/resubmit", "Apply again after the front desk returned my online application "
           "at 预审 (一次性告知): a new online case, prefilled with the returned one's data and linked to it (once)",
           M.MyCase, body=M.MyResubmit, status=201, errors=(401, 403, 404, 409, 422))
def my_resubmit(case_id: int, body: M.MyResubmit):
    materials, files = materials_of(body.materials)
    case = online_acts.resubmit(services(), g.api_actor, case_id, body.data, materials, files)
    return _send(M.MyCase, _my_json(portal.my_case(services(), g.api_actor, case["id"])), 201)
