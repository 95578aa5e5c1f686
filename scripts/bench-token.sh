#!/usr/bin/env bash
# npm run bench:token: what token auth costs. Two Wharf processes side by side on fresh data:
#   A = token auth on (auth-db, the projects RBAC plugin, Bearer tokens from /service/token)
#   B = an open registry (no auth, no RBAC, no tokens)
# Manifest GET req/s at c=32 is measured on both, alternating ABBA, and A/B is reported (target
# >= 0.9). Then the token endpoint's throughput for repeated valid credentials (target >= 500/s)
# and the latency of wrong passwords (never cached) on A.
#
# env: ROUNDS=6 DURATION=10 CONCURRENCY=32 A_PORT=5103 B_PORT=5104 SHARED=DIR BENCH_TMPDIR=DIR
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SHARED:-}
if [[ -z $shared ]]; then
  for cand in "$root/../shared" /work/shared; do
    [[ -f $cand/bench/ocibench.mjs ]] && { shared=$(cd "$cand" && pwd); break; }
  done
fi
[[ -n $shared ]] || { echo "bench-token: cannot find shared/bench (set SHARED=DIR)" >&2; exit 2; }
[[ -f $root/core/dist/cli/main.js ]] || { echo "bench-token: Wharf is not built: run npm run build" >&2; exit 2; }

ROUNDS=${ROUNDS:-6} DURATION=${DURATION:-10} CONCURRENCY=${CONCURRENCY:-32}
A_PORT=${A_PORT:-5103} B_PORT=${B_PORT:-5104}
PASSWORD='Bench-Passw0rd-1'
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/wharf-bench-token.XXXXXX")
pids=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  [[ ${KEEP:-0} == 1 ]] && echo "bench-token: temp dir kept: $tmp" >&2 || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$tmp/a.yaml" <<YAML
token: { enabled: true }
auth: [ { db: {} } ]
rbac: { projects: {} }
log: { level: warn, access: false }
YAML
cat >"$tmp/b.yaml" <<YAML
token: { enabled: false }
auth: []
rbac: {}
log: { level: warn, access: false }
YAML

start() { # start NAME PORT
  mkdir -p "$tmp/$1"
  (cd "$root" && WHARF_ADMIN_PASSWORD=$PASSWORD exec node server/bin/wharf.js serve --config "$tmp/$1.yaml" \
    --listen "127.0.0.1:$2" --data-dir "$tmp/$1" >"$tmp/$1.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/v2/")
    [[ $code == 200 || $code == 401 ]] && return 0
    sleep 0.1
  done
  echo "bench-token: $1 did not start; log:" >&2; tail -n 30 "$tmp/$1.log" >&2; return 1
}
start a "$A_PORT" || exit 1
start b "$B_PORT" || exit 1

manifest() { # manifest PORT -> req/s
  node "$shared/bench/ocibench.mjs" manifest --url "http://127.0.0.1:$1" --repo library/bench \
    --duration "$DURATION" --concurrency "$CONCURRENCY" --user admin --password "$PASSWORD" --json 2>>"$tmp/errors.log" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.errors ? 0 : j.opsPerSec);})'
}

a=() b=()
for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2 == 0)); then a+=("$(manifest "$A_PORT")"); b+=("$(manifest "$B_PORT")")
  else b+=("$(manifest "$B_PORT")"); a+=("$(manifest "$A_PORT")"); fi
  echo "bench-token: round $((r + 1)): token ${a[-1]} req/s, open ${b[-1]} req/s" >&2
done

tokens=$(node "$root/scripts/bench/tokens.mjs" --url "http://127.0.0.1:$A_PORT" --user admin --password "$PASSWORD" \
  --duration "$DURATION" --concurrency 16)

node - "$tmp" "${a[*]}" "${b[*]}" "$tokens" "$CONCURRENCY" "$DURATION" <<'NODE'
const [, , , a, b, tokens, c, d] = process.argv;
const nums = (s) => s.split(' ').filter(Boolean).map(Number);
const median = (xs) => { const s = [...xs].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const A = nums(a), B = nums(b), t = JSON.parse(tokens);
const ratio = median(A) / median(B);
console.log(`| Scenario | Token auth on | Open | On / open | Target |`);
console.log(`|---|---|---|---|---|`);
console.log(`| manifest GET c=${c} ${d}s (req/s, median of ${A.length}) | ${median(A).toFixed(1)} | ${median(B).toFixed(1)} | ${ratio.toFixed(2)} | ≥ 0.9: ${ratio >= 0.9 ? 'met' : '**not met**'} |`);
console.log('');
console.log(`| Token endpoint, same valid credentials, c=${t.concurrency} ${t.seconds}s | Value | Target |`);
console.log(`|---|---|---|`);
console.log(`| tokens/s | ${t.tokensPerSecond} (${t.failed} failed) | ≥ 500: ${t.tokensPerSecond >= 500 && t.failed === 0 ? 'met' : '**not met**'} |`);
console.log(`| first request (password hash, then cached) | ${t.firstMs} ms | – |`);
console.log(`| wrong password, median of 5 in a row | ${t.wrongMedianMs} ms, status ${t.wrongStatuses.join('/')} | slow, never cached |`);
NODE
