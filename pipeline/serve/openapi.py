"""The OpenAPI 3.1 description of ``iceberg serve`` (``GET /openapi.json``).

Its schemas are JSON Schema (2020-12), so a client — or a test — can validate an answer
against ``components.schemas`` directly.
"""

from __future__ import annotations

from functools import lru_cache

NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}

_SCHEMAS = {
    "LookupRequest": {
        "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "description": "the ticket's text, as the customer wrote it"},
            "customer": {**STRING_OR_NULL, "description": "the customer id as the helpdesk shows it "
                                                           "(matched after the run's pseudonymisation)"},
            "dimensions": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "the ticket's values, e.g. {\"platform\": \"iOS\"}"},
            "n_tickets": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
            "n_icebergs": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        },
    },
    "NearIceberg": {
        "type": "object", "required": ["iceberg_id", "name", "similarity", "would_join", "url"],
        "properties": {"iceberg_id": {"type": "string"}, "name": {"type": "string"},
                       "similarity": {"type": "number"}, "would_join": {"type": "boolean"},
                       "rank": NUMBER_OR_NULL, "size": NUMBER_OR_NULL,
                       "url": {**STRING_OR_NULL, "description": "its dashboard page (dashboard.url)"}},
    },
    "PastTicket": {
        "type": "object", "required": ["ticket_id", "similarity", "iceberg_id", "name", "text"],
        "properties": {"ticket_id": {"type": "string"}, "similarity": NUMBER_OR_NULL,
                       "iceberg_id": STRING_OR_NULL, "name": {"type": "string"}, "text": {"type": "string"},
                       "created_at": STRING_OR_NULL, "same_problem": {"type": "boolean"}},
    },
    "CustomerHistory": {
        "type": "object", "required": ["given", "customer_id", "found", "same_problem", "icebergs", "tickets"],
        "properties": {"given": {"type": "string"}, "customer_id": STRING_OR_NULL, "found": {"type": "boolean"},
                       "same_problem": {"type": "boolean", "description": "one of their tickets is this problem"},
                       "icebergs": {"type": "array", "items": {"type": "string"}},
                       "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/PastTicket"}}},
    },
    "LookupAnswer": {
        "type": "object",
        "required": ["run_id", "text", "threshold", "placed_in", "one_off", "icebergs", "tickets",
                     "dimensions", "customer"],
        "properties": {
            "run_id": {"type": "string"},
            "text": {"type": "string", "description": "the text as cleaned and redacted (what was embedded)"},
            "threshold": {"type": "number", "description": "the run's assign rule"},
            "placed_in": {**STRING_OR_NULL, "description": "the iceberg it would join; null: a one-off for now"},
            "one_off": {"type": "boolean"},
            "icebergs": {"type": "array", "items": {"$ref": "#/components/schemas/NearIceberg"}},
            "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/PastTicket"}},
            "dimensions": {"type": "array", "items": {
                "type": "object", "required": ["dimension", "value", "iceberg_id", "share", "baseline_share"],
                "properties": {"dimension": {"type": "string"}, "value": {"type": "string"},
                               "iceberg_id": {"type": "string"}, "share": {"type": "number"},
                               "baseline_share": NUMBER_OR_NULL}}},
            "customer": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/CustomerHistory"}]},
        },
    },
    "Iceberg": {
        "type": "object", "required": ["run_id", "iceberg_id", "name", "rank", "size", "evidence", "url"],
        "properties": {"run_id": {"type": "string"}, "iceberg_id": {"type": "string"}, "name": {"type": "string"},
                       "label": {"type": "string"}, "rank": {"type": "integer"}, "size": {"type": "integer"},
                       "n_customers": {"type": "integer"}, "trend": STRING_OR_NULL,
                       "status": STRING_OR_NULL, "keywords": {"type": "array", "items": {"type": "string"}},
                       "evidence": {"type": "array", "items": {"type": "object"}}, "url": STRING_OR_NULL},
    },
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


_GUARDED = {"401": _error("missing or wrong token"), "429": _error("rate limit (serve.rate_per_minute)")}


@lru_cache(maxsize=1)
def openapi_schema() -> dict:
    from importlib import metadata

    try:
        version = metadata.version("ticket-iceberg")
    except metadata.PackageNotFoundError:   # a source checkout that is not installed
        version = "0+unknown"
    return {
        "openapi": "3.1.0",
        "info": {"title": "Iceberg look-up API", "version": version,
                 "description": "Is this ticket a one-off? Where it would land among a finished run's "
                                "icebergs, and what this customer wrote before (iceberg serve)."},
        "security": [{"bearer": []}],
        "paths": {
            "/lookup": {"post": {
                "summary": "Look one ticket up", "operationId": "lookup",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/LookupRequest"}}}},
                "responses": {"200": _json("LookupAnswer", "where it would land"),
                              "400": _error("the body is not a JSON object"),
                              "413": _error("the body is over serve.max_body_bytes"),
                              "422": _error("a field is missing or wrong, or an unknown dimension"),
                              **_GUARDED}}},
            "/icebergs/{iceberg_id}": {"get": {
                "summary": "One iceberg of the run", "operationId": "iceberg",
                "parameters": [{"name": "iceberg_id", "in": "path", "required": True,
                                "schema": {"type": "string"}, "example": "ICE-0042"}],
                "responses": {"200": _json("Iceberg", "its figures, name, status and evidence"),
                              "404": _error("no such iceberg in the run"), **_GUARDED}}},
            "/health": {"get": {"summary": "Up, which run, counts", "operationId": "health", "security": [],
                                "responses": {"200": {"description": "ok"}}}},
            "/openapi.json": {"get": {"summary": "This description", "operationId": "openapi", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
        "components": {"schemas": _SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "ICEBERG_API_TOKEN"}}},
    }
