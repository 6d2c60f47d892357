#!/usr/bin/env bash
# Many concurrent pushes from separate `pushdata push` processes against one `pushdata serve`,
# for each staging memory budget and number of processes: first each process into its own
# dataset, then all of them upserting the same file into one dataset (their publishes are
# serialized). After each phase every dataset is read back with `pushdata pull` and its rows
# counted, and the server's peak RSS (VmHWM, reset before each phase through
# /proc/PID/clear_refs) is set beside its configured budgets. The table goes into
# RELIABILITY.md between the `concurrent-load:begin` / `concurrent-load:end` markers.
# Nothing in it is typed by hand.
#
#   tests/reliability/concurrent-load.sh                     # budgets 64 and 256 MiB, 2 and 6 processes
#   BUDGETS_MB="256" PROCESSES="8" tests/reliability/concurrent-load.sh
#   INPUT=some.parquet tests/reliability/concurrent-load.sh  # default: lineitem SF 0.1 of the benches
#
# The default input is the benches' cached lineitem SF 0.1 (600,572 rows); it is generated
# by a bulk_load run when missing. CI runs the short version of the same checks
# (crates/pushdata-cli/tests/concurrency.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."

BUDGETS_MB=${BUDGETS_MB:-"64 256"}
PROCESSES=${PROCESSES:-"2 6"}
CHUNK_MB=${CHUNK_MB:-16}
target=${CARGO_TARGET_DIR:-target}
INPUT=${INPUT:-$target/bench-data/lineitem-sf0.1.parquet}

cargo build --release -q -p pushdata-cli
bin="$target/release/pushdata"
if [ ! -f "$INPUT" ]; then
  cargo bench -q --bench bulk_load -- --sf 0.1 --mode child > /dev/null
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -s "$work/pull.err" ] && tail -5 "$work/pull.err" >&2
  rm -rf "$work"
}
trap cleanup EXIT

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# rows DATASET_ID: the rows `pushdata pull` reads back.
rows() {
  "$bin" pull --url "$url" --json -o "$work/pull.parquet" "$1" 2>> "$work/pull.err" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["rows"])'
}

# push NAME ARGS...: one push process; its --json report goes to $work/NAME.json.
push() {
  local name=$1
  shift
  "$bin" push "$INPUT" --url "$url" --table lineitem --json --chunk-mb "$CHUNK_MB" "$@" \
    > "$work/$name.json" 2> "$work/$name.err"
}

# report NAME KEY: a field of push NAME's --json report (datasetId, or rows: the rows read).
report() {
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["tables"][0]["rows"] if sys.argv[2] == "rows" else r[sys.argv[2]])' "$work/$1.json" "$2" 2>/dev/null || echo none
}

started=$(date -u '+%Y-%m-%d %H:%M UTC')
lines=()
status=0
for budget in $BUDGETS_MB; do
  for n in $PROCESSES; do
    rm -rf "$work/data"
    "$bin" serve --addr 127.0.0.1:0 --data-dir "$work/data" --staging-memory-mb "$budget" \
      > "$work/serve.out" 2> "$work/serve.err" &
    server_pid=$!
    for _ in $(seq 100); do grep -q '^http' "$work/serve.out" && break; sleep 0.1; done
    url=$(grep -m1 '^http' "$work/serve.out")
    idle=$(kb "$server_pid" VmRSS)

    # Phase 1: n processes, n datasets.
    echo 5 > "/proc/$server_pid/clear_refs"
    pids=()
    for i in $(seq "$n"); do push "own$i" --dataset "own$i" & pids+=($!); done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
    peak=$(kb "$server_pid" VmHWM)
    wrong=0
    for i in $(seq "$n"); do
      [ "$(rows "$(report "own$i" datasetId)" || echo x)" = "$(report "own$i" rows)" ] || wrong=$((wrong + 1))
    done
    lines+=("| $budget | $n | own dataset each | $((idle / 1024)) | $((peak / 1024)) | $failed | $wrong |")
    [ "$failed" -eq 0 ] && [ "$wrong" -eq 0 ] || status=1

    # Phase 2: n processes upserting the same rows into one dataset.
    push shared0 --dataset shared
    id=$(report shared0 datasetId)
    input_rows=$(report shared0 rows)
    echo 5 > "/proc/$server_pid/clear_refs"
    pids=()
    for i in $(seq "$n"); do
      push "shared$i" --dataset-id "$id" --policy upsert & pids+=($!)
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
    peak=$(kb "$server_pid" VmHWM)
    wrong=0
    [ "$(rows "$id" || echo x)" = "$input_rows" ] || wrong=1
    lines+=("| $budget | $n | one dataset, upsert | $((idle / 1024)) | $((peak / 1024)) | $failed | $wrong |")
    [ "$failed" -eq 0 ] && [ "$wrong" -eq 0 ] || status=1

    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    echo "budget $budget MiB, $n processes done" >&2
  done
done

section=$(mktemp)
{
  echo "Last run: $started, \`BUDGETS_MB=\"$BUDGETS_MB\" PROCESSES=\"$PROCESSES\" CHUNK_MB=$CHUNK_MB tests/reliability/concurrent-load.sh\` ($(uname -sm), $(nproc) CPUs); input $(basename "$INPUT"), $input_rows rows, pushed whole by each process; the server's other budgets at their defaults (4 chunk slots, $CHUNK_MB MiB chunks from each client)."
  if [ "$status" -ne 0 ]; then
    echo
    echo "**The run had FAILURES**: see the last two columns."
  fi
  echo
  echo "| staging memory budget (MiB) | processes | into | server RSS idle (MiB) | server peak RSS (MiB) | failed pushes | datasets with wrong rows |"
  echo "|---:|---:|---|---:|---:|---:|---:|"
  printf '%s\n' "${lines[@]}"
} > "$section"
python3 tests/reliability/write_section.py concurrent-load "$section"
rm -f "$section"
exit "$status"
