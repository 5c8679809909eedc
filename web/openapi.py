"""The OpenAPI 3 description of /api/v1 (tests check it lists exactly the routes the app serves)."""
from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERR = {"401": {"$ref": "#/components/responses/Unauthorized"}}
ERRORS = {code: {"$ref": f"#/components/responses/{name}"} for code, name in
          [("401", "Unauthorized"), ("403", "Forbidden"), ("404", "NotFound"), ("409", "Conflict"),
           ("422", "Invalid")]}
CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def spec() -> dict:
    paths = {
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": _json({"type": "object"})}}},
        "/api/v1/auth/token": {"post": {
            "summary": "Exchange username and password for a bearer token", "security": [],
            "requestBody": _body({"type": "object", "required": ["username", "password"],
                                  "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}),
            "responses": {"200": _json({"type": "object", "properties": {"token": {"type": "string"}}}),
                          "401": ERRORS["401"], "422": ERRORS["422"]}}},
        "/api/v1/matters": {"get": {
            "summary": "The catalogue: latest deployed matters and bundles",
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": _json({"type": "array", "items": _ref("Matter")}), **ERR}}},
        "/api/v1/matters/{code}": {"get": {
            "summary": "A matter's guide with materials, start form and groups",
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("MatterGuide")), "401": ERRORS["401"], "404": ERRORS["404"]}}},
        "/api/v1/cases": {"post": {
            "summary": "Start a case (front desk, or channel=online). Matters with a service guide go through the "
                       "window rules: accepted, or refused with a one-time notice of everything missing",
            "requestBody": _body(_ref("NewCase")),
            "responses": {"201": _json(_ref("Case"), "Created"), "401": ERRORS["401"], "403": ERRORS["403"],
                          "422": ERRORS["422"]}}},
        "/api/v1/cases/{case_id}": {"get": {
            "summary": "A case with its members and open tasks", "parameters": [CASE_ID],
            "responses": {"200": _json(_ref("Case")), "401": ERRORS["401"], "404": ERRORS["404"]}}},
        "/api/v1/cases/{case_id}/events": {"get": {
            "summary": "The case's audit trail", "parameters": [CASE_ID],
            "responses": {"200": _json({"type": "array", "items": _ref("Event")}), "401": ERRORS["401"],
                          "404": ERRORS["404"]}}},
        "/api/v1/cases/{case_id}/diagram.svg": {"get": {
            "summary": "The process diagram with completed and active elements", "parameters": [CASE_ID],
            "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
                          "401": ERRORS["401"], "404": ERRORS["404"]}}},
        "/api/v1/tasks": {"get": {
            "summary": "Ready tasks the caller may work on",
            "responses": {"200": _json({"type": "array", "items": _ref("Task")}), **ERR}}},
        "/api/v1/tasks/{task_id}/claim": {"post": {
            "summary": "Claim a task", "parameters": [TASK_ID],
            "responses": {"200": _json({"type": "object"}), **{k: ERRORS[k] for k in ("401", "403", "404", "409")}}}},
        "/api/v1/tasks/{task_id}/complete": {"post": {
            "summary": "Complete a task with its form data", "parameters": [TASK_ID],
            "requestBody": _body({"type": "object", "properties": {"data": {"type": "object"}}}),
            "responses": {"200": _json(_ref("Case")), **ERRORS}}},
    }
    nullable_int = {"type": ["integer", "null"]}
    schemas = {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "fields": {"type": "object", "additionalProperties": {"type": "string"},
                                      "description": "field path (e.g. contact.phone, items.0.qty) -> message "
                                                     "naming the field by its form title"}}}}},
        "Matter": {"type": "object", "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "kind": {"enum": ["matter", "bundle"]},
            "departments": {"type": "array", "items": {"type": "string"}}, "handling": {"type": ["string", "null"]},
            "promised_days": nullable_int, "statutory_days": nullable_int,
            "members": {"type": "array", "items": {"type": "string"}}}},
        "MatterGuide": {"allOf": [_ref("Matter"), {"type": "object", "properties": {
            "materials": {"type": "array"}, "form": {"type": "object", "description": "JSON Schema"},
            "intake_form": {"type": ["object", "null"]}, "groups": {"type": "array", "items": {"type": "string"}}}}]},
        "Applicant": {"type": "object", "required": ["name"], "properties": {
            "type": {"enum": ["person", "company"]}, "name": {"type": "string"}, "id_number": {"type": "string"},
            "credit_code": {"type": "string"}, "phone": {"type": "string"}}},
        "NewCase": {"type": "object", "required": ["matter", "applicant"], "properties": {
            "matter": {"type": "string"}, "applicant": _ref("Applicant"), "data": {"type": "object"},
            "materials": {"description": "material ids received, or {id: provided|deferred|commitment}, or "
                                         "{id: {status: provided, files: [sha256 of POST /files, ...]}}",
                          "oneOf": [{"type": "array", "items": {"type": "string"}},
                                    {"type": "object", "additionalProperties": {"oneOf": [
                                        {"enum": ["provided", "deferred", "commitment"]},
                                        {"type": "object", "required": ["status"], "properties": {
                                            "status": {"enum": ["provided", "deferred", "commitment"]},
                                            "files": {"type": "array", "items": {"type": "string"}}}}]}}]},
            "channel": {"enum": ["window", "online", "kiosk"]},
            "intake": {"type": "object", "description": "the front desk's verdict at a window (default accepted)",
                       "properties": {"accepted": {"type": "boolean"}, "reason": {"type": "string"},
                                      "remark": {"type": "string"}}}}},
        "Case": {"type": "object", "properties": {
            "id": {"type": "integer"}, "number": {"type": "string"}, "matter": {"type": "string"},
            "status": {"type": "string"}, "applicant": _ref("Applicant"), "visits": {"type": "integer"},
            "members": {"type": "array", "items": {"type": "object", "properties": {
                "matter": {"type": "string"}, "name": {"type": "string"}, "status": {"type": "string"}, "outcome": {"type": ["string", "null"]}}}},
            "outcomes": {"type": "array", "items": {"type": "object", "properties": {
                "matter": {"type": "string"}, "name": {"type": "string"}, "department": {"type": ["string", "null"]},
                "status": {"enum": ["approved", "rejected", "not_handled", "pending", "refused_at_intake"]},
                "opinion": {"type": ["string", "null"]}, "notice": {"type": "string"}}}},
            "owed": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}}}},
            "notice": {"type": ["object", "null"]},
            "certificates": {"type": "array", "items": {"type": "object", "properties": {
                k: {"type": "string"} for k in ("number", "type", "name", "matter", "status", "verify_code")}}},
            "tasks": {"type": "array", "items": {"type": "object", "properties": {
                k: {"type": ["string", "null"]} for k in ("id", "name", "process_id", "element_id", "rule", "group", "assignee",
                                                           "status")}}}}},
        "Task": {"type": "object", "properties": {
            "id": {"type": "string"}, "case_id": {"type": "integer"}, "case_number": {"type": "string"},
            "name": {"type": "string"}, "element_id": {"type": "string"}, "group": {"type": "string"},
            "assignee": {"type": ["string", "null"]}, "due": {"type": ["string", "null"]},
            "form": {"type": ["object", "null"], "description": "JSON Schema of the task's form"}}},
        "Event": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "at": {"type": "string"}, "type": {"type": "string"},
            "actor": {"type": "string"}, "element_id": {"type": ["string", "null"]}, "payload": {"type": "object"},
            "hash": {"type": "string"}}},
    }
    from .api_papers import openapi_fragment  # the reviewer's desk and the papers (issue 11)

    more_paths, more_schemas = openapi_fragment()
    paths.update(more_paths)
    schemas.update(more_schemas)
    schemas["Case"]["properties"].update(
        certificates={"type": "array", "items": _ref("Paper")}, documents={"type": "array", "items": _ref("Paper")})
    responses = {name: _json(_ref("Error"), desc) for name, desc in
                 [("Unauthorized", "Missing, invalid or expired token"), ("Forbidden", "Not your group"),
                  ("NotFound", "No such resource"), ("Conflict", "No longer ready, or claimed by someone else"),
                  ("TooLarge", "The upload is larger than the limit (error.fields names the field)"),
                  ("Invalid", "Per-field validation errors in error.fields")]}
    return {"openapi": "3.1.0",
            "info": {"title": "onewindow API", "version": "1",
                     "description": "一窗受理 · JSON API over the service layer. Errors: {\"error\": {code, message, "
                                    "fields?}}; messages are in Chinese, in English with ?lang=en or "
                                    "Accept-Language: en"},
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}],
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": schemas, "responses": responses}}
