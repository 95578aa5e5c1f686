#!/usr/bin/env bash
# npm run bench: Wharf against the reference registry (distribution 2.8), side by side, plus the
# peak memory of Wharf while it receives one 2 GiB blob; then scripts/bench-s3.sh (Wharf on S3
# storage against Wharf on fs) unless S3=0, and scripts/bench-replication.sh unless REPLICATION=0. Prints markdown tables.
#
# env (all optional):
#   ROUNDS=4 ORDER=ABBA       passed to compare.sh (rounds; ABBA alternates who goes first)
#   SCENARIOS='...'           compare.sh scenario list (default: its own list, ~10 min at ROUNDS=4)
#   WHARF_PORT=5102 REF_PORT=5101
#   RSS_SIZE=2GiB             blob size of the memory measurement; RSS=0 skips it
#   SHARED=DIR                the shared/ directory (default: ../shared next to the repo, else /work/shared)
#   BENCH_TMPDIR=DIR          where both registries store data (default $TMPDIR or /tmp)
#   BENCH_OUT=DIR             keep raw results and the report there
#   KEEP=1                    keep the temp directory (data, logs) instead of removing it
#   REPLICATION=0             skip scripts/bench-replication.sh (Wharf replication against skopeo copy)
#   S3=0                      skip scripts/bench-s3.sh (which reads ROUNDS, ORDER, RSS, RSS_SIZE,
#                             BENCH_TMPDIR, BENCH_OUT and KEEP too, but not SCENARIOS)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=bench
# shellcheck source=bench/lib.sh
source "$root/scripts/bench/lib.sh"
shared=${SHARED:-}
if [[ -z $shared ]]; then
  for cand in "$root/../shared" /work/shared; do
    [[ -x $cand/bench/compare.sh ]] && { shared=$(cd "$cand" && pwd); break; }
  done
fi
[[ -n $shared && -x $shared/bench/compare.sh ]] || { echo "bench: cannot find shared/bench (set SHARED=DIR)" >&2; exit 2; }

WHARF_PORT=${WHARF_PORT:-5102}
REF_PORT=${REF_PORT:-5101}
RSS_SIZE=${RSS_SIZE:-2GiB}
wharf_url=http://127.0.0.1:$WHARF_PORT
ref_url=http://127.0.0.1:$REF_PORT
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/wharf-bench.XXXXXX")
wharf_pid='' ref_pid='' sampler_pid=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$sampler_pid"
  stop_pid "$wharf_pid"
  stop_pid "$ref_pid"
  if [[ -n ${BENCH_OUT:-} ]]; then
    mkdir -p "$BENCH_OUT" && cp -r "$tmp/compare" "$tmp"/*.log "$tmp"/report.md "$BENCH_OUT"/ 2>/dev/null
    echo "bench: results kept in $BENCH_OUT" >&2
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "bench: temp dir kept: $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ -f $root/core/dist/cli/main.js ]] || { echo "bench: Wharf is not built: run npm run build" >&2; exit 2; }
ports_free "$WHARF_PORT" "$REF_PORT"

echo "bench: data in $tmp (shared tools: $shared)" >&2
mkdir -p "$tmp/ref" "$tmp/wharf"
# The reference script writes its config to a mktemp dir under TMPDIR: keep that inside $tmp.
TMPDIR=$tmp "$shared/bench/reference-registry.sh" -p "$REF_PORT" -d "$tmp/ref" >"$tmp/reference.log" 2>&1 &
ref_pid=$!
cd "$root" || exit 2
# Like the reference: an open registry (no auth, no RBAC, no tokens; Wharf is secure by default),
# warn-level log, no access log.
cat >"$tmp/wharf.yaml" <<'YAML'
token: { enabled: false }
auth: []
rbac: {}
log: { level: warn, access: false }
YAML
start_wharf() {
  node server/bin/wharf.js serve --config "$tmp/wharf.yaml" --listen "127.0.0.1:$WHARF_PORT" --data-dir "$tmp/wharf" >>"$tmp/wharf.log" 2>&1 &
  wharf_pid=$!
}
start_wharf

wait_ready reference "$ref_url/v2/" "$ref_pid" "$tmp/reference.log" || exit 1
wait_ready wharf "$wharf_url/v2/" "$wharf_pid" "$tmp/wharf.log" || exit 1
echo "bench: wharf pid $wharf_pid on $wharf_url, reference pid $ref_pid on $ref_url" >&2

# ---- throughput and latency, A = Wharf, B = reference ----
mkdir -p "$tmp/compare"
OUT=$tmp/compare ROUNDS=${ROUNDS:-4} ORDER=${ORDER:-ABBA} "$shared/bench/compare.sh" "$wharf_url" "$ref_url" >"$tmp/compare.txt"
compare_rc=$?
cat "$tmp/compare.txt"
[[ -n ${BENCH_OUT:-} || ${KEEP:-0} == 1 ]] || echo "bench: raw results are removed on exit; set BENCH_OUT=dir to keep them" >&2

# ---- peak RSS of Wharf while one large blob is pushed ----
rss_json='null'
push_rc=0
if [[ ${RSS:-1} != 0 ]]; then
  # Measure a fresh process: the heap the throughput runs left behind is not the push's doing.
  stop_pid "$wharf_pid"
  start_wharf
  wait_ready wharf "$wharf_url/v2/" "$wharf_pid" "$tmp/wharf.log" || exit 1
  status=/proc/$wharf_pid/status
  kb() { awk -v k="$1:" '$1 == k { print $2 }' "$status" 2>/dev/null; }
  before_kb=$(kb VmRSS)
  # Reset the high-water mark so VmHWM covers the push only (Linux >= 4.0); sampling backs it up.
  echo 5 >"/proc/$wharf_pid/clear_refs" 2>/dev/null && hwm_reset=true || hwm_reset=false
  (
    max=0
    while kill -0 "$wharf_pid" 2>/dev/null; do
      cur=$(awk '$1 == "VmRSS:" { print $2 }' "$status" 2>/dev/null)
      [[ -n $cur && $cur -gt $max ]] && { max=$cur; echo "$max" >"$tmp/rss-max"; }
      sleep 0.1
    done
  ) &
  sampler_pid=$!
  echo "bench: pushing one $RSS_SIZE blob to measure peak RSS" >&2
  push_json=$(node "$shared/bench/ocibench.mjs" push --size "$RSS_SIZE" --count 1 --concurrency 1 \
    --url "$wharf_url" --repo bench/rss --json 2>"$tmp/rss-push.err")
  push_rc=$?
  sleep 0.3
  stop_pid "$sampler_pid"; sampler_pid=''
  hwm_kb=$(kb VmHWM)
  sampled_kb=$(cat "$tmp/rss-max" 2>/dev/null || echo 0)
  [[ $push_json == '{'* ]] || push_json=null
  rss_json=$(printf '{"size":"%s","rc":%d,"beforeKb":%s,"sampledMaxKb":%s,"hwmKb":%s,"hwmReset":%s,"push":%s}' \
    "$RSS_SIZE" "$push_rc" "${before_kb:-null}" "${sampled_kb:-0}" "${hwm_kb:-null}" "$hwm_reset" "$push_json")
  ((push_rc == 0)) || { echo "bench: the $RSS_SIZE push failed:" >&2; cat "$tmp/rss-push.err" >&2; }
fi

node "$root/scripts/bench/report.mjs" "$tmp/compare" "$rss_json" "$wharf_url" "$ref_url" | tee "$tmp/report.md"
((compare_rc == 0)) || echo "bench: some compare.sh runs failed (see the fails column)" >&2

# ---- S3 storage against fs, with both registries above stopped so they take no CPU ----
s3_rc=0
if [[ ${S3:-1} != 0 ]]; then
  stop_pid "$wharf_pid"; wharf_pid=''
  stop_pid "$ref_pid"; ref_pid=''
  echo
  SHARED=$shared bash "$root/scripts/bench-s3.sh"
  s3_rc=$?
fi

# ---- replication to docker-registry against skopeo copy ----
replication_rc=0
if [[ ${REPLICATION:-1} != 0 ]]; then
  stop_pid "$wharf_pid"; wharf_pid=''
  stop_pid "$ref_pid"; ref_pid=''
  echo
  ROUNDS=3 bash "$root/scripts/bench-replication.sh"
  replication_rc=$?
fi
((compare_rc == 0 && push_rc == 0 && s3_rc == 0 && replication_rc == 0))
