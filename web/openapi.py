"""The OpenAPI 3.1 document of /api/v1, generated from the operations web/api.py declares and the models of
web/apimodels.py — the same ones that validate requests and build responses, so it lists exactly what is served."""
from __future__ import annotations

import re
from functools import lru_cache

from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from . import apimodels as M

REF = "#/components/schemas/{model}"
ERROR_NAMES = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 413: "TooLarge",
               422: "Invalid", 429: "TooManyAttempts", 503: "Unavailable"}
ERROR_TEXT = {401: "Missing, invalid, expired or revoked token", 403: "Not allowed for the caller",
              404: "No such resource (or not one the caller may see)", 409: "No longer ready, claimed by someone "
              "else, or a conflicting Idempotency-Key", 413: "The request body is too large",
              422: "Per-field validation errors in error.fields", 429: "Too many attempts; see Retry-After",
              503: "The database cannot be reached; see Retry-After"}


def _schema(annotation) -> dict:
    return TypeAdapter(annotation).json_schema(ref_template=REF, mode="serialization")


def _models() -> list:
    return [getattr(M, name) for name in dir(M) if isinstance(getattr(M, name), type)
            and issubclass(getattr(M, name), M.BaseModel) and getattr(M, name).__module__ == M.__name__]


@lru_cache(maxsize=1)
def spec() -> dict:
    from .api import OPERATIONS

    _, defs = models_json_schema([(m, "validation") for m in _models()], ref_template=REF)
    schemas = dict(defs.get("$defs", {}))
    paths: dict = {}
    for op in OPERATIONS:
        entry: dict = {"summary": op.summary, "operationId": op.name, "responses": {}}
        if op.public:
            entry["security"] = []
        params = [{"name": p, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1} if p == "case_id" else {"type": "string"}}
                  for p in re.findall(r"\{(\w+)\}", op.path)]
        if op.query is not None:
            qs = op.query.model_json_schema(ref_template=REF)
            for name, prop in qs.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in qs.get("required", []),
                               "schema": prop})
        for name, text in op.headers.items():
            params.append({"name": name, "in": "header", "required": False, "description": text,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
        if params:
            entry["parameters"] = params
        if op.form is not None:
            entry["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": op.form}}}
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": REF.format(model=op.body.__name__)}}}}
        if op.response is None:
            body = {"type": "string"} if op.media_type != "application/json" else {"type": "object"}
            entry["responses"][str(op.status)] = {"description": "OK", "content": {
                mt.strip(): {"schema": body} for mt in op.media_type.split(",")}}
        else:
            ok = {"description": "Created" if op.status == 201 else "OK",
                  "content": {"application/json": {"schema": _schema(op.response)}}}
            entry["responses"][str(op.status)] = ok
            for status, text in op.also.items():
                entry["responses"][str(status)] = dict(ok, description=text)
        errors = set(op.errors) | ({413} if op.body is not None or op.form is not None else set()) | ({503} if op.path != "/openapi.json"
                                                                                  else set())
        for status in sorted(errors):
            entry["responses"][str(status)] = {"$ref": f"#/components/responses/{ERROR_NAMES[status]}"}
        paths.setdefault("/api/v1" + op.path, {})[op.method.lower()] = entry
    responses = {ERROR_NAMES[s]: {"description": ERROR_TEXT[s], "content": {"application/json": {
        "schema": {"$ref": REF.format(model="Error")}}}} for s in ERROR_NAMES}
    return {"openapi": "3.1.0",
            "info": {"title": "onewindow API", "version": "1",
                     "description": "一窗受理 · JSON API over the service layer. Errors: {\"error\": {code, message, "
                                    "fields?}}. Generated from the models that validate every request."},
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}],
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": schemas, "responses": responses}}
