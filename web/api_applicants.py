"""/api/v1 for applicants: sign-up and confirmation of the mobile (public, throttled in the engine), and the
applicant's own cases under /me (engine.runtime.portal decides what an applicant may see and do)."""
from __future__ import annotations

from flask import request

from engine.runtime import applicants

from . import apimodels as M
from .api import _send, operation
from .auth import services


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
