"""``iceberg serve``: the look-up API (``app.api_app``), its guards (token, rate, size) and
its OpenAPI description."""

from pipeline.serve.app import api_app
from pipeline.serve.guard import TOKEN_ENV, check_binding
from pipeline.serve.openapi import openapi_schema

__all__ = ["TOKEN_ENV", "api_app", "check_binding", "openapi_schema"]
