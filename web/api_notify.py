"""/api/v1 for notifications: a new confirmation code for a pending sign-up (public, throttled in the engine), and
the signed-in user's in-app notices (engine.runtime.notify decides whose they are)."""
from __future__ import annotations

from flask import g, request

from engine.errors import NotFound
from engine.runtime import applicants, notify

from . import apimodels as M
from .api import _send, operation
from .auth import services


@operation("POST", "/applicants/resend", "A new confirmation code for a pending sign-up; the old code no longer works "
           "(also after it expired or too many wrong tries). At most one a minute per number and a few an hour per "
           "address (429 with Retry-After). The answer is the same for any valid number, registered or not",
           M.Resent, body=M.Resend, public=True, status=202, errors=(422, 429))
def resend_code(body: M.Resend):
    return _send(M.Resent, applicants.resend(services(), body.phone, request.remote_addr), 202)


@operation("GET", "/me/notices", "My in-app notices, newest first: 受理, 一次性告知, 补正, 办结, 出件, 差评回访 (and 催办 "
           "for staff)", list[M.MyNotice], query=M.NoticeQuery, errors=(401, 422))
def my_inapp_notices(query: M.NoticeQuery):
    return _send(list[M.MyNotice], notify.my_notices(services(), g.api_actor, query.limit, query.unread))


@operation("POST", "/me/notices/{notice_id}/read", "Mark one of my notices read (another user's is not found)",
           M.MyNotice, errors=(401, 404))
def read_my_notice(notice_id: str):
    if not notice_id.isdigit():
        raise NotFound(f"no such notice: {notice_id}")
    return _send(M.MyNotice, notify.mark_read(services(), g.api_actor, int(notice_id)))


@operation("POST", "/me/notices/read", "Mark all my notices read", M.ReadAll, errors=(401,))
def read_all_my_notices():
    return _send(M.ReadAll, {"marked": notify.mark_all_read(services(), g.api_actor)})
