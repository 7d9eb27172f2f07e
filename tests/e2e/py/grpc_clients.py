"""Talks to a running `loadlake serve` with clients that are not ours: grpcio (server reflection,
then ListRuns and GetReport called with message types discovered by reflection alone; the
standard health service), the ADBC Flight SQL driver (what BI tools and pandas use), and DuckDB
reading the store's Parquet directly for the same SQL.

usage: grpc_clients.py HOST:PORT SQL STORE_DIR [TOKEN]
Prints JSON: {services, health, runs, report, adbc_rows, duckdb_rows, adbc_write_error}.
"""
import json
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

import adbc_driver_flightsql.dbapi as flightsql
from adbc_driver_flightsql import DatabaseOptions

addr, sql, store = sys.argv[1], sys.argv[2], sys.argv[3]
token = sys.argv[4] if len(sys.argv) > 4 else None
metadata = [("authorization", f"Bearer {token}")] if token else []

channel = grpc.insecure_channel(addr)
grpc.channel_ready_future(channel).result(timeout=10)

# Reflection: which services does the server say it has?
stub = reflection_pb2_grpc.ServerReflectionStub(channel)
request = reflection_pb2.ServerReflectionRequest(list_services="")
services = []
for response in stub.ServerReflectionInfo(iter([request]), timeout=10, metadata=metadata):
    services += [s.name for s in response.list_services_response.service]

# Call ListRuns and GetReport knowing nothing but what reflection tells.
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


class AuthedChannel:
    """The reflection database's stub, with the bearer token on every call."""

    def __init__(self, channel):
        self.channel = channel

    def stream_stream(self, *a, **k):
        call = self.channel.stream_stream(*a, **k)
        return lambda requests, **kw: call(requests, metadata=metadata, **kw)


pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(AuthedChannel(channel)))


def call(service, method, fields):
    m = pool.FindServiceByName(service).FindMethodByName(method)
    request_class = message_factory.GetMessageClass(m.input_type)
    response_class = message_factory.GetMessageClass(m.output_type)
    rpc = channel.unary_unary(f"/{service}/{method}", request_serializer=request_class.SerializeToString,
                              response_deserializer=response_class.FromString)
    reply = rpc(request_class(**fields), timeout=30, metadata=metadata)
    return json_format.MessageToDict(reply, preserving_proto_field_name=True)


runs = call("loadlake.v1.RunService", "ListRuns", {"max_results": 10})
report = call("loadlake.v1.ReportService", "GetReport", {"run_id": runs["runs"][0]["run_id"]})

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

import duckdb

con = duckdb.connect()
con.execute(f"create view samples as select * from read_parquet('{store}/samples/*/*.parquet', hive_partitioning = true)")
duckdb_rows = [list(r) for r in con.execute(sql).fetchall()]

print(json.dumps({
    "runs": runs,
    "report": report,
    "duckdb_rows": duckdb_rows,
    "services": sorted(services),
    "health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
    "adbc_rows": rows,
    "adbc_write_error": write_error,
}, default=str))
