#!/usr/bin/env bash
# npm run bench:events: what durable events cost. Two open Wharf processes side by side on fresh data:
#   EVENTS_MODE=sink (the default):
#     A = pull events on (a plugin's consumer receives every registry event, pulls included)
#     B = no consumer (nothing is recorded)
#   EVENTS_MODE=default: the default deployment (audit log and webhooks on)
#     A = as shipped (both subscribe to pull events)
#     B = the same with their pull switches off (logging.audit.pulls.record, extensions.webhooks.pullEvents)
# Manifest GET req/s at c=32 is measured on both, alternating ABBA, and A/B is reported (target
# >= 0.9: pulls are recorded in batches, not one write each). Then event-to-handler latency and
# sustained delivery rate in one process (scripts/bench/events.mjs).
#
# Besides req/s, the CPU time each server used per request (from /proc, so it holds on a
# loaded machine, where req/s follow the other processes' load).
# env: ROUNDS=6 DURATION=10 CONCURRENCY=32 A_PORT=5105 B_PORT=5106 SHARED=DIR BENCH_TMPDIR=DIR KEEP=1
#   PARALLEL=1  load A and B at the same time instead of one after the other (on a loaded
#               machine both then see the same load; the req/s are each one's share of the CPU)
#   WARMUP=3  seconds of load on each side before the rounds
#   LATENCY=0  skips the one-process latency and rate part
#   WHARF_NODE_ARGS='...'  extra node flags for both Wharf processes, e.g.
#                          '--cpu-prof --cpu-prof-dir=/tmp/prof' (one profile per process at exit)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=bench-events
source "$root/scripts/bench/lib.sh"
shared=${SHARED:-}
if [[ -z $shared ]]; then
  for cand in "$root/../shared" /work/shared; do
    [[ -f $cand/bench/ocibench.mjs ]] && { shared=$(cd "$cand" && pwd); break; }
  done
fi
[[ -n $shared ]] || { echo "bench-events: cannot find shared/bench (set SHARED=DIR)" >&2; exit 2; }
[[ -f $root/core/dist/cli/main.js ]] || { echo "bench-events: Wharf is not built: run npm run build" >&2; exit 2; }

ROUNDS=${ROUNDS:-6} DURATION=${DURATION:-10} CONCURRENCY=${CONCURRENCY:-32}
A_PORT=${A_PORT:-5105} B_PORT=${B_PORT:-5106}
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/wharf-bench-events.XXXXXX")
pids=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  [[ ${KEEP:-0} == 1 ]] && echo "bench-events: temp dir kept: $tmp" >&2 || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

open='token: { enabled: false }
auth: []
rbac: {}
log: { level: warn, access: false }'
EVENTS_MODE=${EVENTS_MODE:-sink}
case $EVENTS_MODE in
  sink)
    # No default consumer of pull events on either side (the audit log, webhooks): A's only one
    # is the bench's sink, and B has none, so B records no pull event at all.
    printf '%s\nlogging: {}\nextensions: { "%s": {} }\n' "$open" "$root/scripts/bench/event-sink-plugin.mjs" >"$tmp/a.yaml"
    printf '%s\nlogging: {}\nextensions: {}\n' "$open" >"$tmp/b.yaml"
    ;;
  default)
    # The shipped defaults on A (server/src/index.ts: audit log, replication, repositories,
    # webhooks, metrics); on B the same plugins with their pull-event switches off.
    printf '%s\n' "$open" >"$tmp/a.yaml"
    printf '%s\nlogging: { audit: { pulls: { record: false } } }\nextensions: { replication: {}, repositories: {}, webhooks: { pullEvents: false }, metrics: {} }\n' "$open" >"$tmp/b.yaml"
    ;;
  *) echo "bench-events: EVENTS_MODE must be sink or default" >&2; exit 2 ;;
esac

start() { # start NAME PORT
  mkdir -p "$tmp/$1"
  # shellcheck disable=SC2086 # WHARF_NODE_ARGS is a list of flags
  (cd "$root" && exec node ${WHARF_NODE_ARGS:-} server/bin/wharf.js serve --config "$tmp/$1.yaml" --listen "127.0.0.1:$2" --data-dir "$tmp/$1" >"$tmp/$1.log" 2>&1) &
  pids+=($!)
  wait_ready "$1" "http://127.0.0.1:$2/v2/" "${pids[-1]}" "$tmp/$1.log"
}
ports_free "$A_PORT" "$B_PORT"
start a "$A_PORT" || exit 1
start b "$B_PORT" || exit 1

cpu_ticks() { # cpu_ticks PID -> user + system clock ticks of the process so far
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

manifest() { # manifest PORT PID -> "req/s cpu-ms-per-request"
  local before after
  before=$(cpu_ticks "$2")
  node "$shared/bench/ocibench.mjs" manifest --url "http://127.0.0.1:$1" --repo library/bench \
    --duration "$DURATION" --concurrency "$CONCURRENCY" --json 2>>"$tmp/errors.log" >"$tmp/run-$1.json"
  sleep 0.5 # the delivery of the last batches is part of the cost
  after=$(cpu_ticks "$2")
  node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const ms=(process.argv[2]-process.argv[3])*1000/process.argv[4];const n=j.opsPerSec*process.argv[5];console.log(j.errors ? "0 0" : `${j.opsPerSec} ${(ms/n).toFixed(4)}`);' \
    "$tmp/run-$1.json" "$after" "$before" "$(getconf CLK_TCK)" "$DURATION"
}

# Warm both up first (JIT, caches): the first seconds of a fresh process cost twice as much CPU.
DURATION_SAVED=$DURATION DURATION=${WARMUP:-3}
manifest "$A_PORT" "${pids[0]}" >/dev/null; manifest "$B_PORT" "${pids[1]}" >/dev/null
DURATION=$DURATION_SAVED
a=() b=() acpu=() bcpu=()
measure() { # measure a|b
  local r
  if [[ $1 == a ]]; then r=$(manifest "$A_PORT" "${pids[0]}"); a+=("${r% *}"); acpu+=("${r#* }")
  else r=$(manifest "$B_PORT" "${pids[1]}"); b+=("${r% *}"); bcpu+=("${r#* }"); fi
}
measure_both() { # PARALLEL=1: A and B loaded at the same time, so the machine's other load hits both alike
  manifest "$A_PORT" "${pids[0]}" >"$tmp/pa" &
  local ja=$!
  manifest "$B_PORT" "${pids[1]}" >"$tmp/pb" &
  wait "$ja" $!
  local ra rb
  ra=$(<"$tmp/pa") rb=$(<"$tmp/pb")
  a+=("${ra% *}") acpu+=("${ra#* }") b+=("${rb% *}") bcpu+=("${rb#* }")
}
for ((r = 0; r < ROUNDS; r++)); do
  if [[ ${PARALLEL:-0} == 1 ]]; then measure_both
  elif ((r % 2 == 0)); then measure a; measure b; else measure b; measure a; fi
  echo "bench-events: round $((r + 1)): pull events on ${a[-1]} req/s (${acpu[-1]} CPU ms/req), off ${b[-1]} req/s (${bcpu[-1]} CPU ms/req)" >&2
done
# The pulls A recorded (events stored), to show they were not dropped.
recorded=$(node -e '
const Database = require(process.argv[2]); const db = new Database(process.argv[1], { readonly: true });
console.log(db.prepare("select count(*) as n from events where type = ?").get("registry.artifact.pulled").n);' \
  "$tmp/a/wharf.db" "$root/node_modules/better-sqlite3")
if [[ ${LATENCY:-1} == 1 ]]; then latency=$(cd "$root" && node scripts/bench/events.mjs)
else latency=null; fi

node - "${a[*]}" "${b[*]}" "$latency" "$CONCURRENCY" "$DURATION" "$recorded" "${acpu[*]}" "${bcpu[*]}" "$EVENTS_MODE" <<'NODE'
const [, , a, b, latency, c, d, recorded, acpu, bcpu, mode] = process.argv;
const nums = (s) => s.split(' ').filter(Boolean).map(Number);
const median = (xs) => { const s = [...xs].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const A = nums(a), B = nums(b), l = JSON.parse(latency);
const ratio = median(A) / median(B);
console.log(`| Scenario | Pull events on | Off | On / off | Target |`);
console.log(`|---|---|---|---|---|`);
console.log(`| manifest GET c=${c} ${d}s (req/s, median of ${A.length}) | ${median(A).toFixed(1)} | ${median(B).toFixed(1)} | ${ratio.toFixed(2)} | ≥ 0.9: ${ratio >= 0.9 ? 'met' : '**not met**'} |`);
const cpuA = median(nums(acpu)), cpuB = median(nums(bcpu));
console.log(`| CPU per manifest GET (ms, median of ${A.length}) | ${cpuA.toFixed(3)} | ${cpuB.toFixed(3)} | ${(cpuB / cpuA).toFixed(2)} (off / on) | – |`);
console.log(`| pull events recorded on A (EVENTS_MODE=${mode}) | ${recorded} | – | – | – |`);
if (!l) process.exit(0);
console.log('');
console.log(`| Durable events, one node (${l.database}) | Value |`);
console.log(`|---|---|`);
console.log(`| event-to-handler latency, ${l.latencyMs.events} events one at a time | p50 ${l.latencyMs.p50} ms, p99 ${l.latencyMs.p99} ms, max ${l.latencyMs.max} ms |`);
console.log(`| sustained, ${l.rate.events} events, no-op consumer | ${l.rate.deliveredPerSec} events/s delivered (${l.rate.publishedPerSec} events/s recorded) |`);
NODE
