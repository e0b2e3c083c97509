#!/usr/bin/env bash
# The whole loop against the local sandbox: validate, plan, apply, then plan again (no changes).
# Uses the example mappings of this repository and a throw-away state, so it changes nothing here.
set -euo pipefail
cd "$(dirname "$0")/.."

# The same interpreter pip installed into, whether or not its scripts directory is on PATH.
statusync() { python3 -m statusync "$@"; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The sandbox's demo key pair: real keys are never needed (nor used) here.
export SENDCLOUD_PUBLIC_KEY=demo-public-key SENDCLOUD_SECRET_KEY=demo-secret-key
export STATUSYNC_API_URL="http://127.0.0.1:$port/api/v3"

# Started directly, not through the function, so that $! is the sandbox itself and the trap stops it.
python3 -m statusync sandbox --port "$port" >"$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$port" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 15
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("the sandbox did not start; see its log")
        time.sleep(0.1)
PY

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }
step statusync validate
step statusync plan --state "$work/state.json"
step statusync apply --yes --state "$work/state.json"
step statusync plan --detailed-exitcode --state "$work/state.json"
printf '\nDone: the sandbox now holds the mappings, and a second plan has nothing to do.\n'
