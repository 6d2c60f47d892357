#!/usr/bin/env python3
"""Write the seed corpus of every fuzz target (fuzz/seeds/<target>/seed_*) from the test
fixtures of the repository and a few hand-picked values. Run from anywhere; idempotent."""
import base64
import json
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fuzz" / "seeds"
SERVER_FIX = ROOT / "crates" / "pushdata-server" / "tests" / "fixtures"
CORE_FIX = ROOT / "crates" / "pushdata-core" / "tests" / "fixtures"


def write(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed_{name}").write_bytes(data)


ROW = ('[["a\\"b",2015,9007199254740993,true,1.5,"-12.340","2017-12-4","11:00:00",'
       '"2020-01-01T00:00:00.5+01:00"],[null,null,null,null,null,null,null,null,null],'
       '["\\u00e9",-1,"42",0,-0.0,1e3,"2000-02-29","23:59:59.999999","1970-01-01 00:00:00Z"]]')
OBJ = ('[{"Str":"x","Int":1,"Dec":"2.5E-2","Day":"2017-12-04T00:00:00","At":"2017-12-04"},'
       '{"dbl":1e300,"flag":"TRUE","tod":"1:2"}]')
COL = ('[["a",null],[1,2],[3,"4"],[true,false],[1.5,null],["12.5",7],["2017-12-04",null],'
       '["11:00:00",null],["2020-01-01T00:00:00",null]]')

for i, j in enumerate([ROW, OBJ, "[]", "[[]]"]):
    write("row_json", f"row_{i}", bytes([i % 4]) + j.encode())
for i, j in enumerate([COL, "[]", "[[],[],[],[],[],[],[],[],[]]"]):
    write("column_json", f"col_{i}", bytes([0]) + j.encode())
write("column_json", "subset", bytes([2]) + b'[["a"],[true],["1.5"],["11:00"],[null]]')


def envelope(body, cuts=b""):
    return bytes([len(cuts)]) + cuts + body


fixture = (SERVER_FIX / "seed_chunk.json").read_bytes()
write("chunk_envelope", "fixture", envelope(fixture, b"\x05\x01"))
b64 = base64.b64encode(ROW.encode()).decode()
write("chunk_envelope", "compact", envelope(
    json.dumps({"tableName": "t", "index": 3, "data": b64}, separators=(",", ":")).encode(), b"\x07"))
write("chunk_envelope", "slashes", envelope(
    ('{"index":"2","tableName":"t\\"1","data":"%s","x":null}' % b64.replace("/", "\\/")).encode()))
write("chunk_envelope", "data_first", envelope(
    ('{"data":"%s","tableName":"t","index":1}' % base64.b64encode(b"[[1]]").decode()).encode(), b"\x03\x02"))

for i, t in enumerate(["0", "-12.340", "1e3", "2.5E-2", "3.0", " 42 ", "9007199254740993",
                       "123456789012345678901234567890.5", "1e400", "NaN", "true", "0",
                       "2017-12-4", "2000-02-29", "0000-01-01", "9999-12-31T23:59:59.999999Z",
                       "2020-01-01T00:00:00+05:30", "23:59:59.999999", "00:00:01.123456000",
                       "2026-11-29T23:59:59Z", "1970-01-01T00:00:00"]):
    write("numbers", f"n{i:02}", t)
write("numbers", "secs", (1_700_000_000).to_bytes(8, "little"))

HEADER = "Id,Big,Amount,Ratio,Flag,Name,Day,At\n"
write("veracity_csv", "rows", HEADER +
      "1,9007199254740993,-12.340,1.5,true,a,2024-05-01,2024-05-01T10:00:00\n"
      '2,,1e3,,false,"b, ""q""",,2024-05-02T10:00:00Z\n'
      "3,-1,0.000001,-0.0,TRUE,c,2000-02-29,2000-02-29 00:00:00\n")
write("veracity_csv", "bad_value", HEADER + "1,x,1,1,true,a,2024-05-01,2024-05-01T10:00:00\n")
write("veracity_csv", "header_only", HEADER)
write("veracity_csv", "wide_decimal", HEADER + "1,1,123456789012345678901234567890123456789,1,true,a,,\n")

pairs = {
    0: [SERVER_FIX / "seed_login.json", CORE_FIX / "login_request.json"],
    2: [SERVER_FIX / "seed_create_dataset.json", CORE_FIX / "dataset_creator_001.json"],
    3: [SERVER_FIX / "seed_update_table.json", CORE_FIX / "table_creator_patch_001.json"],
    4: [SERVER_FIX / "seed_model.json", CORE_FIX / "dataset_model_003.json"],
    5: [SERVER_FIX / "seed_upload_session.json", CORE_FIX / "upload_session_request_003.json"],
    7: [SERVER_FIX / "seed_chunk.json", CORE_FIX / "chunk_request_003.json"],
}
for pick, files in pairs.items():
    for f in files:
        write("request_bodies", f"{pick:02}_{f.stem}", bytes([pick]) + f.read_bytes())
extra = {
    1: "loginMode=1&username=administrator&password=",
    6: '{"requestedObjects":{"attributes":[{"id":"A"}],"metrics":[{"id":"M"}]},"viewFilter":null}',
    8: '{"name":"Wind","description":"d","schemaVersion":{"schemaVersionName":"v1","columns":'
       '[{"name":"Id","dataType":"Int32","isKey":true},{"name":"V","dataType":"Decimal"}]}}',
    9: '{"schemaId":"00000000-0000-4000-a000-000000000000","schemaVersionName":"v2","columns":[]}',
    10: '{"name":"ds","description":"","schemaVersionId":"00000000-0000-4000-a000-000000000000",'
        '"tags":[{"title":"k","type":"v"}]}',
    11: '{"operation":"Upsert","files":[{"fileName":"a.csv","operation":"Append"}]}',
    12: '{"pageIndex":1,"pageSize":10,"columnFilter":["Id"],"queryFilters":[{"column":"Id",'
        '"filterValues":["1"]}],"sorting":{"column":"Id","order":"Ascending"}}',
    13: "grant_type=client_credentials&client_id=c&client_secret=s&scope=x%2F.default",
}
for pick, body in extra.items():
    write("request_bodies", f"{pick:02}_sample", bytes([pick]) + body.encode())
