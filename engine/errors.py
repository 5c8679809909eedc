"""Typed errors, so every front end can map a failure to one HTTP status without guessing."""


class OneWindowError(Exception):
    """Base class; `status` is the HTTP status a front end should answer with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        out.update({k: v for k, v in self.details.items() if v is not None})
        return out


class NotFound(OneWindowError):
    status, code = 404, "not_found"


class Forbidden(OneWindowError):
    status, code = 403, "forbidden"


class Conflict(OneWindowError):
    """The action is stale: the task is no longer ready, or someone else holds it."""

    status, code = 409, "conflict"


class Invalid(OneWindowError):
    """Submitted data failed validation; `fields` maps a field path to its message."""

    status, code = 422, "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message, fields=fields or {})
        self.fields = fields or {}


class TooLarge(Invalid):
    """An upload over the size limit (413), naming the field like any other invalid input."""

    status, code = 413, "too_large"


class Unauthorized(OneWindowError):
    status, code = 401, "unauthorized"


class TooManyAttempts(OneWindowError):
    """Throttled (e.g. sign-in attempts); `retry_after` seconds."""

    status, code = 429, "too_many_attempts"


class Unavailable(OneWindowError):
    """The database cannot be reached right now; try again shortly."""

    status, code = 503, "unavailable"


class BpmnProblem(OneWindowError):
    """A defect in a process or form file, located as FILE:LINE: ELEMENT_ID."""

    status, code = 422, "bpmn_invalid"

    def __init__(self, file: str, line: int | None, element: str | None, message: str, severity: str = "error"):
        super().__init__(message)
        self.file, self.line, self.element, self.severity = file, line, element, severity

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line or 0}: {self.element or '-'}: {prefix}{self.message}"


class ExpressionRefused(OneWindowError):
    """The sandbox refused an expression or script (unsafe construct or syntax error)."""

    status, code = 422, "expression_refused"


class WorkflowFailed(OneWindowError):
    """The engine could not step the case; nothing was saved."""

    status, code = 409, "workflow_failed"
