#!/usr/bin/env bash
# Run every benchmark and write the figures, as the benchmarks printed them, into the
# results section of BENCHMARKS.md (between the `results:begin` / `results:end` markers).
#
#   benches/report.sh                 # encode, csv and the server's decode (SF 0.1), bulk_load SF 0.1, 1 and 2, mstrio-py SF 0.1,
#                                     # the Python package against mstrio-py and the CLI SF 0.1 (MSTRIO_SF),
#                                     # veracity_load SF 0.1 and 1, the Veracity Python sample at the same SFs (VERACITY_PY_SFS),
#                                     # pull_load SF 0.1 and 1 (PULL_SFS), mstrio-py's pull SF 0.1,
#                                     # the scale run SF 1 and 10, client alone (SCALE_SFS; "" skips it)
#   SFS="0.1 1" MSTRIO_SF=0.1 VERACITY_SFS=0.1 VERACITY_PY_SFS=0.1 benches/report.sh   # other scale factors
#
# Nothing in the tables is typed by hand: each table is the markdown the bench printed.
set -euo pipefail
cd "$(dirname "$0")/.."

SFS=${SFS:-"0.1 1 2"}
MSTRIO_SF=${MSTRIO_SF:-0.1}
VERACITY_SFS=${VERACITY_SFS:-"0.1 1"}
VERACITY_PY_SFS=${VERACITY_PY_SFS:-$VERACITY_SFS}
ENCODE_SF=${PUSHDATA_BENCH_SF:-0.1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

tables() { sed -n '/^### /,$p' "$1" | grep -vE '^(Gnuplot|Benchmarking|Warning)'; }

cargo build --release -q -p pushdata-cli 2>/dev/null || echo "note: pushdata-cli not built (mstrio-py run will try cargo run)" >&2
cargo bench --bench encode --no-run -q
cargo bench --bench bulk_load --no-run -q
cargo bench --bench csv --no-run -q
cargo bench --bench decode --no-run -q
cargo bench --bench veracity_load --no-run -q
cargo bench --bench pull_load --no-run -q

load_before=$(uptime)
date_start=$(date -u '+%Y-%m-%d %H:%M UTC')

PUSHDATA_BENCH_SF=$ENCODE_SF cargo bench -q --bench encode > "$out/encode.txt"
PUSHDATA_BENCH_SF=$ENCODE_SF cargo bench -q --bench csv > "$out/csv.txt"
# The server's chunk decode, CPU time per MB only (criterion's runs skipped).
PUSHDATA_BENCH_SF=$ENCODE_SF PUSHDATA_BENCH_CPU_ONLY=1 cargo bench -q --bench decode > "$out/decode.txt"
sf_args=()
for sf in $SFS; do sf_args+=(--sf "$sf"); done
cargo bench -q --bench bulk_load -- "${sf_args[@]}" > "$out/bulk.txt"
# Not the default: 100 MiB chunks (the API's advice, and the default until session 7),
# client alone, against the default 20 MiB.
cargo bench -q --bench bulk_load -- --sf 0.1 --sf 1 --mode child --chunk-mb "${OTHER_CHUNK_MB:-100}" > "$out/bulk_small.txt"
# Not the default: a memory budget of two whole chunks (double buffering), client alone.
cargo bench -q --bench bulk_load -- --sf 0.1 --sf 1 --mode child --max-buffered-mb 40 > "$out/bulk_budget.txt"
# Not the default: COLUMN chunks (decoded on all cores by the server), client alone.
cargo bench -q --bench bulk_load -- --sf 0.1 --sf 1 --mode child --orientation column > "$out/bulk_column.txt"
# From an object store: SF 1 lineitem uploaded to a moto S3 emulator on loopback (the one
# .ci/run installs into the target directory), pushed by its s3:// URL (ranged reads), client
# alone; compare with the local-file rows of the default table. Skipped without moto.
moto_server=${PUSHDATA_MOTO_SERVER:-${CARGO_TARGET_DIR:-target}/moto-venv/bin/moto_server}
if [ -x "$moto_server" ]; then
  moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$moto_server" -H 127.0.0.1 -p "$moto_port" >/dev/null 2>&1 &
  moto_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$moto_port") 2>/dev/null && break; sleep 0.1; done
  # written by the default bulk_load run above (SFS holds 1 by default)
  lineitem="${CARGO_TARGET_DIR:-target}/bench-data/lineitem-sf1.parquet"
  if [ -f "$lineitem" ] && "$(dirname "$moto_server")/python3" - "$moto_port" "$lineitem" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="bench", aws_secret_access_key="bench")
s3.create_bucket(Bucket="bench")
s3.upload_file(sys.argv[2], "bench", "lineitem.parquet")
PY
  then
    PUSHDATA_BENCH_INPUT_URL=s3://bench/lineitem.parquet AWS_ENDPOINT="http://127.0.0.1:$moto_port" \
      AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
      cargo bench -q --bench bulk_load -- --sf 1 --mode child > "$out/bulk_s3.txt"
  else
    echo "SF 1 lineitem could not be uploaded to the S3 emulator" > "$out/bulk_s3.txt"
  fi
  kill "$moto_pid" 2>/dev/null || true
else
  echo "no moto server ($moto_server): the object-store row was not measured" > "$out/bulk_s3.txt"
fi
# mstrio-py lives in the virtual environment .ci/run makes (PUSHDATA_PYTHON overrides).
mstrio_python=${PUSHDATA_PYTHON:-${CARGO_TARGET_DIR:-target}/mstrio-venv/bin/python3}
[ -x "$mstrio_python" ] || mstrio_python=python3
"$mstrio_python" benches/mstrio_bulk_load.py --sf "$MSTRIO_SF" > "$out/mstrio.txt" || echo "mstrio-py run failed (exit $?)" > "$out/mstrio.txt"
# The Python package, built in release by pip into the same environment, against mstrio-py
# and the CLI (benches/python_bulk_load.py) at the same SF. The build uses this target
# directory, so the release dependencies the benches compiled are reused.
if CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" "$mstrio_python" -m pip install --quiet \
    --disable-pip-version-check ./crates/pushdata-python; then
  "$mstrio_python" benches/python_bulk_load.py --sf "$MSTRIO_SF" > "$out/python.txt" || echo "Python package run failed (exit $?)" > "$out/python.txt"
else
  echo "the Python package could not be installed into $mstrio_python's environment" > "$out/python.txt"
fi
# Veracity ingest: VeracityPush against the emulation, then Veracity's Python sample flow
# (requests + azure-storage-file-datalake, in the same virtual environment) for the ratio.
veracity_args=()
for sf in $VERACITY_SFS; do veracity_args+=(--sf "$sf"); done
cargo bench -q --bench veracity_load -- "${veracity_args[@]}" > "$out/veracity.txt"
veracity_py_args=()
for sf in $VERACITY_PY_SFS; do veracity_py_args+=(--sf "$sf"); done
"$mstrio_python" benches/veracity_python.py "${veracity_py_args[@]}" > "$out/veracity_py.txt" || echo "Veracity Python sample run failed (exit $?)" > "$out/veracity_py.txt"

# The read-back side: the whole dataset pulled through the Cube API, then mstrio-py's
# to_dataframe() of the same dataset on the same server for the ratio.
pull_args=()
for sf in ${PULL_SFS:-0.1 1}; do pull_args+=(--sf "$sf"); done
cargo bench -q --bench pull_load -- "${pull_args[@]}" > "$out/pull.txt"
"$mstrio_python" benches/mstrio_pull.py --sf "$MSTRIO_SF" > "$out/mstrio_pull.txt" || echo "mstrio-py pull run failed (exit $?)" > "$out/mstrio_pull.txt"

# Scale: SF 1 and SF 10 pushed with the default settings, client alone (SCALE_SFS="" skips
# it). Last, because it rewrites bulk_load-results.json, which the mstrio-py and Python
# package benches above read for their side-by-side ratios.
if [ -n "${SCALE_SFS-1 10}" ]; then
  scale_args=()
  for sf in ${SCALE_SFS-1 10}; do scale_args+=(--sf "$sf"); done
  cargo bench -q --bench bulk_load -- "${scale_args[@]}" --mode child > "$out/bulk_scale.txt"
else
  echo "SCALE_SFS is empty: the scale run was skipped" > "$out/bulk_scale.txt"
fi

load_after=$(uptime)
{
  echo "<!-- results:begin (written by benches/report.sh; do not edit by hand) -->"
  echo
  echo "Run: $date_start, commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' + uncommitted changes')."
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
  echo "- memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
  echo "- $(rustc --version)"
  echo "- load before: \`${load_before##*load average: }\`; after: \`${load_after##*load average: }\` (1, 5, 15 min)"
  echo
  tables "$out/encode.txt"
  echo
  tables "$out/csv.txt"
  echo
  echo "### Chunk decode on the server (benches/decode.rs, CPU time only)"
  sed -n '/^#### /,$p' "$out/decode.txt"
  echo
  tables "$out/bulk.txt"
  echo
  tables "$out/bulk_small.txt"
  echo
  tables "$out/bulk_budget.txt"
  echo
  tables "$out/bulk_column.txt"
  echo
  if grep -q '^### ' "$out/bulk_s3.txt"; then tables "$out/bulk_s3.txt"; else sed 's/^/    /' "$out/bulk_s3.txt"; fi
  echo
  if grep -q '^### ' "$out/mstrio.txt"; then tables "$out/mstrio.txt"; else sed 's/^/    /' "$out/mstrio.txt"; fi
  echo
  if grep -q '^### ' "$out/python.txt"; then tables "$out/python.txt"; else sed 's/^/    /' "$out/python.txt"; fi
  echo
  tables "$out/veracity.txt"
  echo
  if grep -q '^### ' "$out/veracity_py.txt"; then tables "$out/veracity_py.txt"; else sed 's/^/    /' "$out/veracity_py.txt"; fi
  echo
  tables "$out/pull.txt"
  echo
  if grep -q '^### ' "$out/mstrio_pull.txt"; then tables "$out/mstrio_pull.txt"; else sed 's/^/    /' "$out/mstrio_pull.txt"; fi
  echo
  if grep -q '^### ' "$out/bulk_scale.txt"; then tables "$out/bulk_scale.txt"; else sed 's/^/    /' "$out/bulk_scale.txt"; fi
  echo
  echo "<!-- results:end -->"
} > "$out/results.md"

python3 - "$out/results.md" <<'EOF'
import re, sys
results = open(sys.argv[1]).read().rstrip("\n")
doc = open("BENCHMARKS.md").read()
pattern = re.compile(r"<!-- results:begin.*?<!-- results:end -->", re.S)
if not pattern.search(doc):
    sys.exit("BENCHMARKS.md has no results markers")
open("BENCHMARKS.md", "w").write(pattern.sub(lambda _: results, doc))
EOF
cat "$out/results.md"
