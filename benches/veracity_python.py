#!/usr/bin/env python3
"""Side-by-side figure for the veracity_load bench: the same data through Veracity's own
Python sample flow (seeds/002: `requests` for the token, the register, start and status
calls; Microsoft's `azure-storage-file-datalake` `DataLakeFileClient` for the upload), as
in crates/pushdata-server/tests/python/veracity_seed_sample.py, against the reference
server's Veracity emulation.

    python3 benches/veracity_python.py --sf 0.1 --sf 1

- The data is the Parquet file the Rust benches generated and cached
  (target/bench-data/lineitem-sf{SF}.parquet; run `cargo bench --bench veracity_load --
  --sf SF` first), read into a pandas DataFrame before the clock starts.
- The server is started here with `pushdata serve --addr 127.0.0.1:0` (the binary given with
  --pushdata, else target/release/pushdata, else `cargo run --release -p pushdata-cli`), or
  an already running one is used with --url.
- Timed, as the Rust bench's wall time (VeracityPush::create, which also makes the schema
  and fetches the token): `DataFrame.to_csv` into bytes; the token; a schema made from the
  Parquet file's Arrow schema with the keys l_orderkey, l_linenumber (the types VeracityPush
  gives them); the Create job registered; `DataLakeFileClient` create_file, append_data,
  flush_data; the job started; its status polled every 20 ms until it ends (as the Rust bench does).
- The sample appends the whole file in one call; the emulation refuses appends over its
  body limit (512 MiB), so files larger than --part-mb (default 256 MiB) are appended in
  parts of that size (SF 0.1 is one append, as in the sample).
- Timed `--runs` times (default 3), each into a new dataset on the same server; the run of
  median wall time is reported, with every run's wall time (veracity_load reports its run
  of median wall time of 5 the same way).
- If target/bench-data/veracity_load-results.json holds a pushdata run of the same SF
  (server in a child process), the speed-up is printed too.

Skips (exit 0 with a message) where requests, azure-storage-file-datalake, pandas or
pyarrow are missing.
"""

import argparse
import resource
import sys
import time
import uuid
from urllib.parse import urlparse

from bench_common import Bench

BENCH = Bench("veracity_python")
GATEWAY = "/veracity/dw/gateway/api/v2"
# The emulation's defaults (pushdata_server::DEFAULT_VERACITY_*).
CLIENT_ID = "pushdata-veracity-client"
CLIENT_SECRET = "pushdata-veracity-secret"
API_KEY = "pushdata-veracity-key"
KEYS = ("l_orderkey", "l_linenumber")
POLL_S = 0.02


def veracity_type(t) -> str:
    """The Veracity column type VeracityPush gives an Arrow type (the types of lineitem)."""
    import pyarrow as pa

    if pa.types.is_integer(t):
        return "Int64" if t.bit_width == 64 or t == pa.uint32() else "Int32"
    if pa.types.is_floating(t):
        return "Double"
    if pa.types.is_decimal(t):
        return "Decimal"
    if pa.types.is_boolean(t):
        return "Boolean"
    if pa.types.is_date(t):
        return "DateOnly"
    if pa.types.is_timestamp(t):
        return "DateTime"
    is_view = getattr(pa.types, "is_string_view", lambda _: False)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or is_view(t):
        return "String"
    BENCH.fail(f"no Veracity type for {t}")


class Sample:
    """The sample's steps against one emulation (root: scheme://host:port)."""

    def __init__(self, root: str):
        import requests

        self.requests = requests
        self.base_url = root + GATEWAY
        self.token_url = root + "/dnvglb2cprod.onmicrosoft.com/oauth2/token"
        self.workspace = str(uuid.uuid4())
        self.token = None

    def headers(self):
        return {
            "Content-Type": "application/json",
            "Ocp-Apim-Subscription-Key": API_KEY,
            "Authorization": f"Bearer {self.token}",
        }

    def step1_token(self):
        payload = {
            "resource": "https://dnvglb2cprod.onmicrosoft.com/83054ebf-1d7b-43f5-82ad-b2bde84d7b75",
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        response = self.requests.post(self.token_url, data=payload)
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def add_schema(self, name, columns):
        r = self.requests.post(
            self.base_url + f"/workspaces/{self.workspace}/schemas/add",
            json={"name": name, "columns": columns},
            headers=self.headers(),
        )
        r.raise_for_status()
        return r.json()["schemaVersions"][0]["id"]

    def step2_register(self, name, version, file_name):
        r = self.requests.post(
            self.base_url + f"/workspaces/{self.workspace}/ingest/dataset",
            json={"datasetName": name, "schemaVersionId": version,
                  "files": [{"fileName": file_name, "operation": "Create"}],
                  "startAutomatically": False},
            headers=self.headers(),
        )
        r.raise_for_status()
        result = r.json()
        return result["sasToken"], result["jobId"]

    def step3_upload(self, sas_uri, target_file_name, contents: bytes, part_bytes: int):
        from azure.storage.filedatalake import DataLakeFileClient

        parsed_url = urlparse(sas_uri)
        account_url = f"{parsed_url.scheme}://{parsed_url.netloc}"
        file_system_name = parsed_url.path.strip("/").split("/")[0]
        folder_path = "/".join(parsed_url.path.strip("/").split("/")[1:])
        file_client = DataLakeFileClient(
            account_url=account_url,
            file_system_name=file_system_name,
            file_path=f"{folder_path}/{target_file_name}",
            credential=parsed_url.query,
        )
        file_client.create_file()
        view = memoryview(contents)
        appends = 0
        for offset in range(0, len(contents), part_bytes):
            part = view[offset:offset + part_bytes]
            file_client.append_data(data=part, offset=offset, length=len(part))
            appends += 1
        file_client.flush_data(len(contents))
        return appends

    def step4_start(self, job_id):
        url = self.base_url + f"/workspaces/{self.workspace}/ingest/job/{job_id}/start"
        response = self.requests.post(url, json=None, headers=self.headers())
        response.raise_for_status()

    def step5_wait(self, job_id, timeout_s=15 * 60):
        url = self.base_url + f"/workspaces/{self.workspace}/ingest/job/{job_id}/status"
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.requests.get(url, headers=self.headers())
            response.raise_for_status()
            result = response.json()
            if result["status"] not in ("Pending", "Running", "Started"):
                return result
            if time.monotonic() > deadline:
                BENCH.fail(f"job {job_id} did not finish: {result}")
            time.sleep(POLL_S)


def timed_run(sample, df, columns, part_mb, run):
    """One timed push of `df` through the sample flow into a new dataset: its timings."""
    name = f"python_lineitem_{int(time.time())}_{run}"
    file_name = "ImportData.csv"
    started = time.perf_counter()
    cpu_started = time.process_time()
    contents = df.to_csv(index=False).encode("utf-8")
    encoded = time.perf_counter() - started
    sample.step1_token()
    version = sample.add_schema(name, columns)
    sas_uri, job_id = sample.step2_register(name, version, file_name)
    uploading = time.perf_counter() - started
    appends = sample.step3_upload(sas_uri, file_name, contents, part_mb * 1024 * 1024)
    uploaded = time.perf_counter() - started
    sample.step4_start(job_id)
    status = sample.step5_wait(job_id)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if status["status"] != "Completed":
        BENCH.fail(f"the job ended {status}")
    print(f"veracity_python: run {run + 1}: {wall:.2f} s", file=sys.stderr)
    return {"wall": wall, "cpu": cpu, "encoded": encoded, "uploading": uploading,
            "uploaded": uploaded, "appends": appends, "csv_bytes": len(contents)}


def measure(sf, args):
    """The sample flow at `sf`, timed `--runs` times: the table row and the footnote's walls."""
    import pandas as pd
    import pyarrow
    import pyarrow.parquet as pq
    import azure.storage.filedatalake as sdk

    parquet = BENCH.lineitem(sf, "veracity_load")
    t0 = time.perf_counter()
    df = pd.read_parquet(parquet)
    columns = [
        {"name": f.name, "type": veracity_type(f.type), "isKey": f.name in KEYS,
         "isRequired": f.name in KEYS or not f.nullable}
        for f in pq.read_schema(parquet)
    ]
    print(f"veracity_python: SF {sf:g}: read {len(df)} rows into pandas in "
          f"{time.perf_counter() - t0:.1f} s (azure-storage-file-datalake {sdk.__version__}, "
          f"pandas {pd.__version__}, pyarrow {pyarrow.__version__})", file=sys.stderr)

    with BENCH.server(args.pushdata, args.url) as url:
        root = "{0.scheme}://{0.netloc}".format(urlparse(url))
        runs = [timed_run(Sample(root), df, columns, args.part_mb, i)
                for i in range(max(1, args.runs))]
    walls = [r["wall"] for r in runs]
    run = sorted(runs, key=lambda r: r["wall"])[(len(runs) - 1) // 2]
    contents_len, appends, encoded = run["csv_bytes"], run["appends"], run["encoded"]
    uploaded, uploading = run["uploaded"], run["uploading"]
    wall, cpu = run["wall"], run["cpu"]

    rows = len(df)
    del df
    # ru_maxrss is in KiB on Linux; it includes the DataFrame read before the clock (and,
    # the process's peak so far, any smaller SF measured before this one).
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    ours = BENCH.pushdata_result("veracity_load", sf)
    fmt = lambda v, f: f.format(v) if v else "—"
    ours_wall = ours["wall_s"] if ours else None
    ours_cpu = ours["cpu_s"] if ours else None
    ours_rss = ours["peak_rss"] if ours else None
    row = (f"| {sf:g} | azure-storage-file-datalake {sdk.__version__}, pandas {pd.__version__} | "
           f"{rows} | {contents_len / 1e6:.0f} | {appends} | {encoded:.2f} | "
           f"{uploaded - uploading:.2f} | {wall - uploaded:.2f} | {wall:.2f} | {rows / wall:.0f} | "
           f"{cpu:.2f} | {peak_rss / 1e6:.0f} | {fmt(ours_wall, '{:.2f}')} | "
           f"{fmt(ours_cpu, '{:.2f}')} | {fmt(ours_rss and ours_rss / 1e6, '{:.0f}')} | "
           f"{fmt(ours_wall and wall / ours_wall, '{:.1f}×')}"
           f"{(' (met)' if wall / ours_wall >= 10 else ' (missed)') if ours_wall else ''} |")
    return row, f"SF {sf:g}: " + ", ".join(f"{w:.2f}" for w in walls) + " s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sf", type=float, action="append",
                    help="TPC-H scale factor, once per scale factor, smallest first "
                         "(default 0.1)")
    ap.add_argument("--url", help="base URL of a running server (default: start one)")
    ap.add_argument("--pushdata", help="path of the pushdata CLI binary")
    ap.add_argument("--part-mb", type=int, default=256,
                    help="most MiB per append (default 256; the emulation's limit is 512)")
    ap.add_argument("--runs", type=int, default=3,
                    help="timed runs per scale factor, each into a new dataset; the run of "
                         "median wall time is reported (default 3)")
    args = ap.parse_args()

    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import requests  # noqa: F401
        import azure.storage.filedatalake  # noqa: F401
    except ImportError as e:
        BENCH.skip(f"{e.name} is not installed "
             "(pip install requests azure-storage-file-datalake pandas pyarrow)")

    measured = [measure(sf, args) for sf in sorted(args.sf or [0.1])]
    runs = max(1, args.runs)
    print()
    print("### Veracity's Python sample flow (pandas to_csv + DataLakeFileClient) against the same "
          "emulation (MB = 10^6 bytes)")
    print()
    print("| SF | client | rows | CSV MB | appends | to_csv (s) | upload (s) | start + job (s) | wall (s) | "
          "rows/s | client CPU (s) | peak RSS MB | pushdata wall (s) | pushdata client CPU (s) | "
          "pushdata client peak RSS MB | pushdata speed-up, wall (target ≥ 10×) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row, _ in measured:
        print(row)
    print()
    print("pushdata figures: the veracity_load run of the same SF with the server in a child "
          "process (client CPU = the client process's user + system time); Python client CPU = "
          "time.process_time() around the timed steps; Python peak RSS is the process's peak "
          "so far: it includes the DataFrame read before the clock. The wall time between the "
          "upload and the end (start + job) is mostly the server's CSV parse and commit, the "
          "same work in both runs. "
          f"Python: the run of median wall time of {runs} (each into a new dataset): "
          + "; ".join(w for _, w in measured) + "; pushdata: the veracity_load run of "
          "median wall time (see its table).")


if __name__ == "__main__":
    main()
