"""Talks to a running `loadlake serve` with clients that are not ours: grpcio (server reflection,
the standard health service) and the ADBC Flight SQL driver (what BI tools and pandas use).

usage: grpc_clients.py HOST:PORT SQL [TOKEN]
Prints JSON: {services, health, adbc_rows, adbc_write_error}.
"""
import json
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

import adbc_driver_flightsql.dbapi as flightsql
from adbc_driver_flightsql import DatabaseOptions

addr, sql = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else None
metadata = [("authorization", f"Bearer {token}")] if token else []

channel = grpc.insecure_channel(addr)
grpc.channel_ready_future(channel).result(timeout=10)

# Reflection: which services does the server say it has?
stub = reflection_pb2_grpc.ServerReflectionStub(channel)
request = reflection_pb2.ServerReflectionRequest(list_services="")
services = []
for response in stub.ServerReflectionInfo(iter([request]), timeout=10, metadata=metadata):
    services += [s.name for s in response.list_services_response.service]

health = health_pb2_grpc.HealthStub(channel).Check(
    health_pb2.HealthCheckRequest(service="loadlake.v1.ReportService"), timeout=10, metadata=metadata
)

options = {}
if token:
    options[DatabaseOptions.AUTHORIZATION_HEADER.value] = f"Bearer {token}"
with flightsql.connect(f"grpc://{addr}", db_kwargs=options) as conn:
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = [list(r) for r in cur.fetchall()]
    write_error = None
    try:
        with conn.cursor() as cur:
            cur.execute("create table t as select 1")
            cur.fetchall()
    except Exception as e:  # the server must refuse it
        write_error = str(e)

print(json.dumps({
    "services": sorted(services),
    "health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
    "adbc_rows": rows,
    "adbc_write_error": write_error,
}, default=str))
