#!/usr/bin/env bash
# Run every cargo-fuzz target of fuzz/ for SECONDS each (at most JOBS at once) and write
# what the runs printed (executions, coverage, corpus, findings) into RELIABILITY.md
# between the `fuzz:begin` / `fuzz:end` markers. Nothing in the table is typed by hand.
#
#   tests/reliability/fuzz.sh                       # every target, 600 s each, 2 at once
#   SECONDS_PER_TARGET=60 tests/reliability/fuzz.sh row_json numbers
#   tests/reliability/fuzz.sh request_bodies=120 row_json   # a time per target (seconds)
#   JOBS=1 FUZZ_TARGET_DIR=/tmp/fuzz-target tests/reliability/fuzz.sh
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The
# targets are built without a sanitizer (the server has no unsafe code) but with debug
# assertions, so an arithmetic overflow is a finding. A finding leaves its input in
# fuzz/artifacts/<target>/ (replay: `fuzz/target/.../release/<target> <file>`). The corpus
# grows in fuzz/corpus/<target>/; the seeds are in fuzz/seeds/<target>/
# (fuzz/seeds/make_seeds.py writes them from the test fixtures). CI does not fuzz.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-600}
JOBS=${JOBS:-2}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-2048}
TIMEOUT=${TIMEOUT:-10}
FUZZ_TARGET_DIR=${FUZZ_TARGET_DIR:-fuzz/target}
case "$FUZZ_TARGET_DIR" in /*) ;; *) FUZZ_TARGET_DIR="$PWD/$FUZZ_TARGET_DIR" ;; esac

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain (cargo +nightly); nothing run" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is not installed (cargo install cargo-fuzz --locked); nothing run" >&2
  exit 2
fi

if [ "$#" -gt 0 ]; then
  args=("$@")
else
  mapfile -t args < <(cd fuzz && cargo +nightly fuzz list)
fi
targets=()
declare -A seconds
for a in "${args[@]}"; do
  t=${a%%=*}
  targets+=("$t")
  if [ "$t" != "$a" ]; then seconds[$t]=${a#*=}; else seconds[$t]=$SECONDS_PER_TARGET; fi
done

(cd fuzz && cargo +nightly fuzz build -s none -a --target-dir "$FUZZ_TARGET_DIR")
bin_dir="$FUZZ_TARGET_DIR/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
started=$(date -u '+%Y-%m-%d %H:%M UTC')

run_one() {
  local t=$1
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  touch "$logs/$t.start"
  local status=0
  "$bin_dir/$t" -max_total_time="${seconds[$t]}" -rss_limit_mb="$RSS_LIMIT_MB" \
    -timeout="$TIMEOUT" -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
    "fuzz/corpus/$t" "fuzz/seeds/$t" > "$logs/$t.log" 2>&1 || status=$?
  echo "$status" > "$logs/$t.status"
}

running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "fuzzing $t for ${seconds[$t]}s"
  run_one "$t" &
  running=$((running + 1))
done
wait || true

# One row per target, from what libFuzzer printed.
stat() { sed -n "s/^stat::$2: *//p" "$logs/$1.log" | tail -1; }
last_line() { grep -E '^#[0-9]+' "$logs/$1.log" | tail -1; }
section=$(mktemp)
findings_total=0
{
  echo "Last run: $started, \`SECONDS_PER_TARGET=$SECONDS_PER_TARGET tests/reliability/fuzz.sh ${args[*]}\`" \
    "($(uname -sm), $(nproc) CPUs, $JOBS at once, \`-rss_limit_mb=$RSS_LIMIT_MB -timeout=$TIMEOUT\`," \
    "debug assertions on). Targets it did not run keep the row of their last run (its date in the run column)."
  echo
  echo "| target | what it checks | run | seconds | executions | exec/s | coverage | corpus | peak RSS MB | findings |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for t in "${targets[@]}"; do
    # The first sentence of the target's doc comment.
    what=$(sed -n 's#^//! ##p' "fuzz/fuzz_targets/$t.rs" | tr '\n' ' ' | sed -E 's/([.:]) .*/\1/')
    execs=$(stat "$t" number_of_executed_units)
    [ -n "$execs" ] || execs=$(last_line "$t" | sed -E 's/^#([0-9]+).*/\1/')
    rate=$(stat "$t" average_exec_per_sec)
    rss=$(stat "$t" peak_rss_mb)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$logs/$t.log" | tail -1)
    cov=$(last_line "$t" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
    corp=$(last_line "$t" | sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p')
    found=$(find "fuzz/artifacts/$t" -type f -newer "$logs/$t.start" | wc -l)
    findings_total=$((findings_total + found))
    echo "| \`$t\` | $what | $started | ${secs:-stopped} of ${seconds[$t]} | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${corp:-?} | ${rss:-?} | $found |"
  done
  # The rows of the targets not run this time, as the last run that did wrote them.
  python3 - "${targets[@]}" <<'PY'
import pathlib, re, sys
text = (pathlib.Path("RELIABILITY.md")).read_text()
section = text.split("<!-- fuzz:begin -->", 1)[1].split("<!-- fuzz:end -->", 1)[0]
for line in section.splitlines():
    m = re.match(r"\| `([a-z_]+)` \|", line)
    if m and m.group(1) not in sys.argv[1:]:
        print(line)
PY
  if [ "$findings_total" -gt 0 ]; then
    echo
    echo "Findings of this run (input in \`fuzz/artifacts/<target>/\`):"
    echo
    for t in "${targets[@]}"; do
      find "fuzz/artifacts/$t" -type f -newer "$logs/$t.start" | while read -r f; do
        why=$(grep -m1 -E "panicked at|ERROR: libFuzzer|SUMMARY" "$logs/$t.log" || true)
        msg=$(grep -m1 -A1 "panicked at" "$logs/$t.log" | tail -1 || true)
        echo "- \`$t\`: \`$(basename "$f")\`: ${why} ${msg}"
      done
    done
  fi
} > "$section"

python3 tests/reliability/write_section.py fuzz "$section"
cat "$section"
rm -f "$section"
for t in "${targets[@]}"; do
  status=$(cat "$logs/$t.status")
  if [ "$status" -ne 0 ]; then
    echo "--- $t exited $status; the end of its log:" >&2
    tail -30 "$logs/$t.log" >&2
  fi
done
[ "$findings_total" -eq 0 ]
