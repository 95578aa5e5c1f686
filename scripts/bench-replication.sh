#!/usr/bin/env bash
# npm run bench:replication: Wharf replicating one image of 256 MiB (8 layers of 32 MiB random,
# incompressible bytes) to an empty docker-registry (distribution 2.8), against `skopeo copy`
# between the same two registries, plus Wharf's RSS while it replicates. Prints a markdown table.
# `npm run bench` runs this at its end unless REPLICATION=0. The issue's bar: replication takes
# at most 1.1 times as long as skopeo, and memory stays flat.
#   A = skopeo copy docker://wharf/bench/img:1 docker://registry/bench/img:1
#   B = a manual Wharf push policy: POST /api/v1/replication/executions until `succeeded`
# Each round runs A and B (who goes first alternates: ABBA), each into a fresh, empty registry.
# Wharf: /v2/ open (no RBAC, no tokens), fs storage, warn-level log, no access log; db users only
# because the management API needs an administrator (an open registry has none).
# A failed copy or a destination digest that differs from Wharf's makes the exit status non-zero;
# the ratio never does. Needs skopeo and docker-registry (Debian packages; .ci/run installs them).
#
# env (all optional):
#   ROUNDS=3                  rounds (each: one skopeo copy and one replication)
#   LAYERS=8 LAYER_MIB=32     the image
#   WHARF_PORT=5115 REGISTRY_PORT=5116
#   BENCH_TMPDIR=DIR          where the image, Wharf and the registries keep data (default $TMPDIR or /tmp)
#   BENCH_OUT=DIR             keep the results, logs and the report there (in DIR/replication)
#   KEEP=1                    keep the temp directory (data, logs) instead of removing it
#   WHARF_NODE_ARGS='...'     extra node flags for Wharf, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'
#                             (the profile is written when Wharf exits at the end)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=bench-replication
# shellcheck source=bench/lib.sh
source "$root/scripts/bench/lib.sh"
ROUNDS=${ROUNDS:-3}
LAYERS=${LAYERS:-8}
LAYER_MIB=${LAYER_MIB:-32}
WHARF_PORT=${WHARF_PORT:-5115}
REGISTRY_PORT=${REGISTRY_PORT:-5116}
ADMIN_PASSWORD='Bench-Passw0rd-1'
wharf_url=http://127.0.0.1:$WHARF_PORT
registry_url=http://127.0.0.1:$REGISTRY_PORT
helper=$root/scripts/bench/replication.mjs

command -v skopeo >/dev/null || { echo "bench-replication: skopeo is not installed (apt-get install -y skopeo)" >&2; exit 2; }
command -v docker-registry >/dev/null ||
  { echo "bench-replication: docker-registry is not installed (apt-get install -y docker-registry)" >&2; exit 2; }
[[ -f $root/core/dist/cli/main.js && -f $root/plugins/replication-oci/dist/index.js ]] ||
  { echo "bench-replication: Wharf is not built: run npm run build" >&2; exit 2; }

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/wharf-bench-replication.XXXXXX")
wharf_pid='' registry_pid='' sampler_pid=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$sampler_pid"
  stop_pid "$registry_pid"
  stop_pid "$wharf_pid"
  if [[ -n ${BENCH_OUT:-} ]]; then
    mkdir -p "$BENCH_OUT/replication" &&
      cp "$tmp"/*.log "$tmp"/*.json "$tmp"/results.jsonl "$tmp"/report.md "$BENCH_OUT/replication"/ 2>/dev/null
    echo "bench-replication: results kept in $BENCH_OUT/replication" >&2
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "bench-replication: temp dir kept: $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

elapsed() { # elapsed T0 T1 ($EPOCHREALTIME values) -> seconds
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { # cpu_ticks PID -> user + system clock ticks so far
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
cpu_since() { # cpu_since PID TICKS0 -> CPU seconds since
  awk -v a="$2" -v b="$(cpu_ticks "$1")" -v hz="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / hz }'
}

ports_free "$WHARF_PORT" "$REGISTRY_PORT"
cd "$root" || exit 2
echo "bench-replication: data in $tmp" >&2

# skopeo reads /etc/containers/policy.json unless told otherwise: do not depend on it.
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$tmp/skopeo-policy.json"
sk() { skopeo --policy "$tmp/skopeo-policy.json" "$@"; }
# --preserve-digests: skopeo otherwise gzips the uncompressed layers on their way to a registry
# (new digests, and CPU time), which is not what a replication does.
SKOPEO_COPY=(copy --preserve-digests --retry-times 0)

# ---- the image: an OCI layout written directly ----
echo "bench-replication: writing a $LAYERS x $LAYER_MIB MiB OCI layout" >&2
source_digest=$(node "$helper" layout "$tmp/layout" "$LAYERS" "$LAYER_MIB") || exit 1
printf '{"meta":true,"layers":%d,"layerMib":%d,"digest":"%s"}\n' "$LAYERS" "$LAYER_MIB" "$source_digest" >"$tmp/results.jsonl"

# ---- Wharf ----
cat >"$tmp/wharf.yaml" <<'YAML'
token: { enabled: false }
auth: [ { db: {} } ]
rbac: {}
log: { level: warn, access: false }
YAML
# shellcheck disable=SC2086 # WHARF_NODE_ARGS is a list of flags
WHARF_ADMIN_PASSWORD=$ADMIN_PASSWORD node ${WHARF_NODE_ARGS:-} server/bin/wharf.js serve --config "$tmp/wharf.yaml" \
  --listen "127.0.0.1:$WHARF_PORT" --data-dir "$tmp/wharf" >>"$tmp/wharf.log" 2>&1 &
wharf_pid=$!
wait_ready wharf "$wharf_url/v2/" "$wharf_pid" "$tmp/wharf.log" || exit 1
export BENCH_USER=admin BENCH_PASSWORD=$ADMIN_PASSWORD
echo "bench-replication: wharf pid $wharf_pid on $wharf_url; pushing the image" >&2
sk "${SKOPEO_COPY[@]}" --dest-tls-verify=false "oci:$tmp/layout:bench" "docker://127.0.0.1:$WHARF_PORT/bench/img:1" \
  >"$tmp/skopeo-push.log" 2>&1 || { echo "bench-replication: pushing into Wharf failed:" >&2; tail -n 20 "$tmp/skopeo-push.log" >&2; exit 1; }
wharf_digest=$(node "$helper" digest "$wharf_url" bench/img 1) || exit 1
[[ $wharf_digest == "$source_digest" ]] ||
  { echo "bench-replication: Wharf serves $wharf_digest, the layout has $source_digest" >&2; exit 1; }

# ---- a fresh, empty docker-registry per measurement ----
start_registry() { # start_registry NAME
  local dir=$tmp/$1
  mkdir -p "$dir"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: $dir/data }
  delete: { enabled: true }
  cache: { blobdescriptor: inmemory }
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: not-a-secret
YAML
  docker-registry serve "$dir/config.yml" >"$tmp/$1.log" 2>&1 &
  registry_pid=$!
  wait_ready "$1" "$registry_url/v2/" "$registry_pid" "$tmp/$1.log"
}
stop_registry() { # stop_registry NAME: and drop its data (256 MiB each)
  stop_pid "$registry_pid"; registry_pid=''
  rm -rf "${tmp:?}/$1/data"
}

failures=0
record() { # record ROUND WHO OK SECONDS DIGEST [EXTRA_JSON]
  printf '{"round":%d,"who":"%s","ok":%s,"seconds":%s,"digest":"%s"%s}\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$tmp/results.jsonl"
  if [[ $3 != true || $5 != "$source_digest" ]]; then
    failures=$((failures + 1))
    echo "bench-replication: round $1, $2: copy ok=$3, destination digest '$5', expected $source_digest" >&2
  fi
}

measure_skopeo() { # measure_skopeo ROUND
  local name=registry-r$1-skopeo ok=true t0 t1 digest w0 r0 wcpu rcpu scpu
  start_registry "$name" || exit 1
  w0=$(cpu_ticks "$wharf_pid") r0=$(cpu_ticks "$registry_pid")
  t0=$EPOCHREALTIME
  local TIMEFORMAT='%3U %3S'
  { time sk "${SKOPEO_COPY[@]}" --src-tls-verify=false --dest-tls-verify=false \
    "docker://127.0.0.1:$WHARF_PORT/bench/img:1" "docker://127.0.0.1:$REGISTRY_PORT/bench/img:1" >"$tmp/skopeo-r$1.log" 2>&1 || ok=false; } 2>"$tmp/skopeo-time"
  t1=$EPOCHREALTIME
  wcpu=$(cpu_since "$wharf_pid" "$w0") rcpu=$(cpu_since "$registry_pid" "$r0")
  scpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/skopeo-time" 2>/dev/null)
  [[ $ok == true ]] || tail -n 20 "$tmp/skopeo-r$1.log" >&2
  digest=$(node "$helper" digest "$registry_url" bench/img 1 2>>"$tmp/skopeo-r$1.log")
  record "$1" skopeo "$ok" "$(elapsed "$t0" "$t1")" "$digest" ",\"cpu\":{\"wharf\":$wcpu,\"registry\":$rcpu,\"skopeo\":${scpu:-0}}"
  echo "bench-replication: round $1: skopeo copy $(elapsed "$t0" "$t1") s (CPU s: skopeo ${scpu:-?}, Wharf $wcpu, registry $rcpu)" >&2
  stop_registry "$name"
}

measure_replication() { # measure_replication ROUND
  local name=registry-r$1-wharf policy=bench-r$1 ok=true out digest before hwm peak w0 r0 wcpu rcpu
  start_registry "$name" || exit 1
  node "$helper" setup "$wharf_url" "$policy" "$registry_url" || exit 1
  before=$(ps -o rss= -p "$wharf_pid" | tr -d ' ')
  # The kernel's high-water mark, reset so that it covers this run only (Linux >= 4.0).
  echo 5 >"/proc/$wharf_pid/clear_refs" 2>/dev/null
  echo "$before" >"$tmp/rss-max"
  (
    max=$before
    while kill -0 "$wharf_pid" 2>/dev/null; do
      cur=$(ps -o rss= -p "$wharf_pid" | tr -d ' ')
      [[ -n $cur && $cur -gt $max ]] && { max=$cur; echo "$max" >"$tmp/rss-max"; }
      sleep 0.1
    done
  ) &
  sampler_pid=$!
  w0=$(cpu_ticks "$wharf_pid") r0=$(cpu_ticks "$registry_pid")
  out=$(node "$helper" run "$wharf_url" "$policy" "$tmp/replication-r$1.json") || ok=false
  wcpu=$(cpu_since "$wharf_pid" "$w0") rcpu=$(cpu_since "$registry_pid" "$r0")
  stop_pid "$sampler_pid"; sampler_pid=''
  hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$wharf_pid/status" 2>/dev/null)
  peak=$(cat "$tmp/rss-max")
  local seconds
  seconds=$(node -e 'try { console.log(JSON.parse(process.argv[1]).seconds.toFixed(3)) } catch { console.log("null") }' "$out")
  digest=$(node "$helper" digest "$registry_url" bench/img 1 2>>"$tmp/wharf.log")
  record "$1" wharf "$ok" "$seconds" "$digest" ",\"rssBeforeKb\":${before:-0},\"rssPeakKb\":${peak:-0},\"hwmKb\":${hwm:-0},\"cpu\":{\"wharf\":$wcpu,\"registry\":$rcpu}"
  echo "bench-replication: round $1: replication $seconds s (CPU s: Wharf $wcpu, registry $rcpu), RSS ${before} -> ${peak} KiB (VmHWM ${hwm:-?} KiB)" >&2
  stop_registry "$name"
}

for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2 == 1)); then measure_skopeo "$r"; measure_replication "$r"
  else measure_replication "$r"; measure_skopeo "$r"; fi
done

echo
node "$helper" report "$tmp/results.jsonl" | tee "$tmp/report.md"
report_rc=${PIPESTATUS[0]}
[[ -n ${BENCH_OUT:-} || ${KEEP:-0} == 1 ]] || echo "bench-replication: logs are removed on exit; set BENCH_OUT=dir or KEEP=1 to keep them" >&2
((failures == 0 && report_rc == 0))
