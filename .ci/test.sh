#!/usr/bin/env bash
# The test command (`./ctxvault test [vitest args]`, which puts the project's Node and pnpm first on
# PATH): installs moto and Chromium when missing, starts Postgres and Redis when they are not up and
# moto on a free port, runs the static checks, then the tests; the last line printed is vitest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# moto and Chromium (the dashboard and /docs tests drive a real headless one), in one apt run
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
if [ ! -x /usr/bin/moto_server ]; then
  as_root bash .ci/install-moto.sh "${packages[@]}"
elif [ ${#packages[@]} -gt 0 ]; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi

pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null ||
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 ||
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null

if [ -z "${CTXVAULT_TEST_S3_ENDPOINT:-}" ]; then
  moto_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  /usr/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"${TMPDIR:-/tmp}/ctxvault-test-moto.log" 2>&1 &
  moto_pid=$!
  trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$moto_port/" >/dev/null 2>&1 && break
    sleep 0.2
  done
  export CTXVAULT_TEST_S3_ENDPOINT="http://127.0.0.1:$moto_port"
fi

# the static checks (type check, Biome, knip, dependency-cruiser) before the tests; meanwhile, on
# the other core, the build of dist/ that the end-to-end suites start (the tests' own build step
# then finds it up to date)
build_log=$(mktemp)
pnpm run --silent build >"$build_log" 2>&1 &
build_pid=$!
pnpm run check || { wait "$build_pid" || true; rm -f "$build_log"; exit 1; }
wait "$build_pid" || { cat "$build_log"; rm -f "$build_log"; exit 1; }
rm -f "$build_log"

log=$(mktemp)
status=0
pnpm exec vitest run "$@" 2>&1 | tee "$log" || status=$?
# vitest's summary again, on one line, so that it is the last thing printed
summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +(Test Files|Tests) ' | sed -E 's/^ +//; s/ +/ /g' | paste -sd ';' | sed 's/;/; /')
rm -f "$log"
echo "${summary:-vitest printed no summary (exit $status)}"
exit "$status"
