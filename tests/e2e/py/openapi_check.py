"""Fetches BASE/api/v1/openapi.json without a token and validates it with openapi-spec-validator
(PyPI), an implementation independent of the server's. Prints one JSON object: {"status",
"content_type", "openapi" (the version), "errors" (the validator's messages, empty when valid),
"operations" ([METHOD, PATH] of every operation, sorted)}.

usage: openapi_check.py BASE
"""
import json
import sys
import urllib.request

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

base = sys.argv[1]
with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=30) as response:
    status, content_type, raw = response.status, response.headers.get("Content-Type"), response.read()
spec = json.loads(raw)
errors = []
try:
    validate(spec)
except OpenAPIValidationError as e:
    errors.append(str(e))
methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
operations = sorted(
    [method.upper(), path]
    for path, item in spec.get("paths", {}).items()
    for method in item
    if method in methods
)
print(json.dumps({
    "status": status,
    "content_type": content_type,
    "openapi": spec.get("openapi"),
    "errors": errors,
    "operations": operations,
}))
