#!/usr/bin/env bash
# Fuzz the reference server with schemathesis against its own OpenAPI document
# (GET /api-docs/openapi.json), for a bounded time: a real `pushdata serve` on 127.0.0.1,
# logged in (X-MSTR-AuthToken, X-MSTR-ProjectID) and with a Veracity bearer token and
# subscription key, so requests get past the auth checks into the handlers.
#
# Checks: no 5xx, every status and content type documented, error bodies as documented.
# Logout is left out (it would end the run's own token).
#
#   MAX_TIME=120 MAX_EXAMPLES=30 tests/reliability/schemathesis.sh
#
# RECORD=1 (the default) writes the figures into RELIABILITY.md between the
# `schemathesis:begin` / `schemathesis:end` markers; CI runs with RECORD=0. When
# schemathesis cannot be installed, the script prints why and exits 0 (skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
MAX_TIME=${MAX_TIME:-120}
MAX_EXAMPLES=${MAX_EXAMPLES:-30}
RECORD=${RECORD:-1}
target=${CARGO_TARGET_DIR:-target}
venv="$target/schemathesis-venv"

if ! "$venv/bin/python3" -c 'import schemathesis' >/dev/null 2>&1; then
  if ! { python3 -m venv --clear "$venv" >/dev/null 2>&1 \
      && "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check schemathesis; }; then
    echo "SKIP schemathesis: could not install schemathesis into $venv (python3 -m venv / pip failed)"
    exit 0
  fi
fi
version=$("$venv/bin/schemathesis" --version | awk '{print $NF}')

cargo build -q -p pushdata-cli --bin pushdata
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$target/debug/pushdata" serve --addr 127.0.0.1:0 --data-dir "$work/data" > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
base=
for _ in $(seq 1 100); do
  base=$(grep -m1 -oE 'https?://[^ ]+' "$work/serve.out" || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start:"; cat "$work/serve.err"; exit 1; }
root=$(echo "$base" | grep -oE '^https?://[^/]+')

# Credentials for the run: a Push Data API session and a Veracity token.
read -r token project vtoken key < <("$venv/bin/python3" - "$base" "$root" <<'PY'
import sys, requests
base, root = sys.argv[1], sys.argv[2]
r = requests.post(f"{base}/api/auth/login", json={"loginMode": 1, "username": "administrator", "password": ""})
r.raise_for_status()
token = r.headers["X-MSTR-AuthToken"]
project = requests.get(f"{base}/api/projects", headers={"X-MSTR-AuthToken": token}).json()[0]["id"]
form = {"grant_type": "client_credentials", "client_id": "pushdata-veracity-client",
        "client_secret": "pushdata-veracity-secret", "resource": "pushdata"}
t = requests.post(f"{root}/dnvglb2cprod.onmicrosoft.com/oauth2/token", data=form)
t.raise_for_status()
print(token, project, t.json()["access_token"], "pushdata-veracity-key")
PY
)

started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
"$venv/bin/schemathesis" run "$root/api-docs/openapi.json" --url "$root" \
  -H "X-MSTR-AuthToken: $token" -H "X-MSTR-ProjectID: $project" \
  -H "Authorization: Bearer $vtoken" -H "Ocp-Apim-Subscription-Key: $key" \
  --exclude-path-regex 'logout' \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --workers 2 \
  --request-timeout 10 --suppress-health-check all --no-color \
  > "$work/st.out" 2>&1 || status=$?
cat "$work/st.out"
cp "$work/st.out" "$target/schemathesis-last.out"

# The server must still answer after the run.
alive=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/status" || true)
echo "server after the run: GET /api/status -> $alive"
[ "$alive" = "200" ] || status=1

if [ "$RECORD" = "1" ]; then
  section=$(mktemp)
  {
    echo "Last run: $started, \`MAX_TIME=$MAX_TIME MAX_EXAMPLES=$MAX_EXAMPLES tests/reliability/schemathesis.sh\` (schemathesis $version, $(uname -sm), $(nproc) CPUs); exit $status; server after the run: GET /api/status $alive."
    echo
    echo "Operations that failed a check:"
    echo
    grep -E '^_+ [A-Z]+ /' "$work/st.out" | sed -E 's/^_+ ([A-Z]+ [^ ]+) _*$/- `\1`/' || true
    grep -qE '^_+ [A-Z]+ /' "$work/st.out" || echo "- none"
    echo
    echo '```'
    sed -n '/= SUMMARY =/,$p' "$work/st.out"
    echo '```'
  } > "$section"
  python3 tests/reliability/write_section.py schemathesis "$section"
  rm -f "$section"
fi
exit "$status"
