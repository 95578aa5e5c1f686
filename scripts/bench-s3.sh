#!/usr/bin/env bash
# npm run bench:s3: Wharf on S3 storage (s3rver, a local emulator) against Wharf on fs storage,
# side by side, plus the peak memory of Wharf-S3 while it receives one 2 GiB blob. Prints markdown
# tables. `npm run bench` runs this at its end unless S3=0.
#   A = Wharf with `storage: { s3: ... }` on s3rver (pulls stream through Wharf: no redirect)
#   B = Wharf with fs storage
# Both are open registries (no auth, no RBAC, no tokens), warn-level log, no access log.
#
# env (all optional):
#   ROUNDS=4 ORDER=ABBA       passed to compare.sh (rounds; ABBA alternates who goes first)
#   S3_SCENARIOS='...'        compare.sh scenario list (default below: push and pull, 1 and 64 MiB)
#   S3_WHARF_PORT=5105 FS_WHARF_PORT=5106 S3RVER_PORT=5107
#   RSS_SIZE=2GiB             blob size of the memory measurement; RSS=0 skips it
#   SHARED=DIR                the shared/ directory (default: ../shared next to the repo, else /work/shared)
#   BENCH_TMPDIR=DIR          where s3rver and both Wharfs store data (default $TMPDIR or /tmp)
#   BENCH_OUT=DIR             keep raw results and the report there (in DIR/s3)
#   KEEP=1                    keep the temp directory (data, logs) instead of removing it
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=bench-s3
# shellcheck source=bench/lib.sh
source "$root/scripts/bench/lib.sh"
shared=${SHARED:-}
if [[ -z $shared ]]; then
  for cand in "$root/../shared" /work/shared; do
    [[ -x $cand/bench/compare.sh ]] && { shared=$(cd "$cand" && pwd); break; }
  done
fi
[[ -n $shared && -x $shared/bench/compare.sh ]] || { echo "bench-s3: cannot find shared/bench (set SHARED=DIR)" >&2; exit 2; }

S3_WHARF_PORT=${S3_WHARF_PORT:-5105}
FS_WHARF_PORT=${FS_WHARF_PORT:-5106}
S3RVER_PORT=${S3RVER_PORT:-5107}
RSS_SIZE=${RSS_SIZE:-2GiB}
BUCKET=wharf-bench
# About 4 minutes at ROUNDS=4 here. Pulls run for a fixed time (short runs vary too much).
DEFAULT_SCENARIOS='
push 64 x 1MiB c=8        | push --size 1MiB --count 64 --concurrency 8
push 4 x 64MiB c=2        | push --size 64MiB --count 4 --concurrency 2
pull 32 x 1MiB c=8 5s     | pull --size 1MiB --count 32 --concurrency 8 --duration 5
pull 4 x 64MiB c=4 5s     | pull --size 64MiB --count 4 --concurrency 4 --duration 5
'
s3_url=http://127.0.0.1:$S3_WHARF_PORT
fs_url=http://127.0.0.1:$FS_WHARF_PORT
s3rver_url=http://127.0.0.1:$S3RVER_PORT
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/wharf-bench-s3.XXXXXX")
s3rver_pid='' s3_pid='' fs_pid='' sampler_pid=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$sampler_pid"
  stop_pid "$s3_pid"
  stop_pid "$fs_pid"
  stop_pid "$s3rver_pid"
  if [[ -n ${BENCH_OUT:-} ]]; then
    mkdir -p "$BENCH_OUT/s3" && cp -r "$tmp/compare" "$tmp"/*.log "$tmp"/report.md "$BENCH_OUT/s3"/ 2>/dev/null
    echo "bench-s3: results kept in $BENCH_OUT/s3" >&2
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "bench-s3: temp dir kept: $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ -f $root/core/dist/cli/main.js && -f $root/plugins/storage-s3/dist/test-support.js ]] ||
  { echo "bench-s3: Wharf is not built: run npm run build" >&2; exit 2; }
ports_free "$S3_WHARF_PORT" "$FS_WHARF_PORT" "$S3RVER_PORT"
cd "$root" || exit 2
echo "bench-s3: data in $tmp (shared tools: $shared)" >&2

# ---- s3rver with one bucket, as the storage-s3 tests run it (plugins/storage-s3/src/test-support.ts) ----
# The one-line delimiter patch, and the legacy OpenSSL provider (for s3rver only) that its DES
# continuation tokens need.
s3rver_bin=$(cd "$root/plugins/storage-s3" && node -p "require('path').join(require('path').dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js')") ||
  { echo "bench-s3: s3rver is not installed (a devDependency of plugins/storage-s3): run npm ci" >&2; exit 2; }
node --input-type=module -e "(await import('$root/plugins/storage-s3/dist/test-support.js')).patchS3rver()" || exit 2
mkdir -p "$tmp/s3data" "$tmp/wharf-s3" "$tmp/wharf-fs"
NODE_OPTIONS=--openssl-legacy-provider node "$s3rver_bin" -d "$tmp/s3data" -a 127.0.0.1 -p "$S3RVER_PORT" --silent \
  --configure-bucket "$BUCKET" >"$tmp/s3rver.log" 2>&1 &
s3rver_pid=$!
wait_ready s3rver "$s3rver_url/" "$s3rver_pid" "$tmp/s3rver.log" || exit 1

# ---- the two Wharfs: same open config, different storage ----
open_config='token: { enabled: false }
auth: []
rbac: {}
log: { level: warn, access: false }'
printf '%s\n' "$open_config" >"$tmp/wharf-fs.yaml"
printf '%s\n' "$open_config" "storage:" "  s3:" "    bucket: $BUCKET" "    endpoint: $s3rver_url" \
  "    forcePathStyle: true" "    accessKeyId: S3RVER" "    secretAccessKey: S3RVER" >"$tmp/wharf-s3.yaml"

start_wharf() { # start_wharf s3|fs PORT: sets s3_pid or fs_pid
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node server/bin/wharf.js serve --config "$tmp/wharf-$1.yaml" \
    --listen "127.0.0.1:$2" --data-dir "$tmp/wharf-$1" >>"$tmp/wharf-$1.log" 2>&1 &
  printf -v "$1_pid" '%s' "$!"
}
start_wharf s3 "$S3_WHARF_PORT"
start_wharf fs "$FS_WHARF_PORT"
wait_ready wharf-s3 "$s3_url/v2/" "$s3_pid" "$tmp/wharf-s3.log" || exit 1
wait_ready wharf-fs "$fs_url/v2/" "$fs_pid" "$tmp/wharf-fs.log" || exit 1
echo "bench-s3: wharf-s3 pid $s3_pid on $s3_url (s3rver pid $s3rver_pid on $s3rver_url), wharf-fs pid $fs_pid on $fs_url" >&2

# ---- throughput and latency, A = Wharf on s3rver, B = Wharf on fs ----
mkdir -p "$tmp/compare"
OUT=$tmp/compare ROUNDS=${ROUNDS:-4} ORDER=${ORDER:-ABBA} SCENARIOS=${S3_SCENARIOS:-$DEFAULT_SCENARIOS} \
  "$shared/bench/compare.sh" "$s3_url" "$fs_url" >"$tmp/compare.txt"
compare_rc=$?
cat "$tmp/compare.txt"
[[ -n ${BENCH_OUT:-} || ${KEEP:-0} == 1 ]] || echo "bench-s3: raw results are removed on exit; set BENCH_OUT=dir to keep them" >&2

# ---- peak RSS of Wharf-S3 while one large blob is pushed ----
rss_json='null'
push_rc=0
if [[ ${RSS:-1} != 0 ]]; then
  # A fresh process, and no other load: the fs Wharf is not needed any more.
  stop_pid "$fs_pid"; fs_pid=''
  stop_pid "$s3_pid"
  start_wharf s3 "$S3_WHARF_PORT"
  wait_ready wharf-s3 "$s3_url/v2/" "$s3_pid" "$tmp/wharf-s3.log" || exit 1
  status=/proc/$s3_pid/status
  kb() { awk -v k="$1:" '$1 == k { print $2 }' "$status" 2>/dev/null; }
  before_kb=$(kb VmRSS)
  # Reset the high-water mark so VmHWM covers the push only (Linux >= 4.0); sampling backs it up.
  echo 5 >"/proc/$s3_pid/clear_refs" 2>/dev/null && hwm_reset=true || hwm_reset=false
  (
    max=0
    while kill -0 "$s3_pid" 2>/dev/null; do
      cur=$(awk '$1 == "VmRSS:" { print $2 }' "$status" 2>/dev/null)
      [[ -n $cur && $cur -gt $max ]] && { max=$cur; echo "$max" >"$tmp/rss-max"; }
      sleep 0.1
    done
  ) &
  sampler_pid=$!
  echo "bench-s3: pushing one $RSS_SIZE blob to Wharf-S3 to measure its peak RSS" >&2
  push_json=$(node "$shared/bench/ocibench.mjs" push --size "$RSS_SIZE" --count 1 --concurrency 1 \
    --url "$s3_url" --repo bench/rss --json 2>"$tmp/rss-push.err")
  push_rc=$?
  sleep 0.3
  stop_pid "$sampler_pid"; sampler_pid=''
  hwm_kb=$(kb VmHWM)
  sampled_kb=$(cat "$tmp/rss-max" 2>/dev/null || echo 0)
  [[ $push_json == '{'* ]] || push_json=null
  rss_json=$(printf '{"size":"%s","rc":%d,"beforeKb":%s,"sampledMaxKb":%s,"hwmKb":%s,"hwmReset":%s,"push":%s}' \
    "$RSS_SIZE" "$push_rc" "${before_kb:-null}" "${sampled_kb:-0}" "${hwm_kb:-null}" "$hwm_reset" "$push_json")
  ((push_rc == 0)) || { echo "bench-s3: the $RSS_SIZE push failed:" >&2; cat "$tmp/rss-push.err" >&2; }
fi

node "$root/scripts/bench/report-s3.mjs" "$tmp/compare" "$rss_json" "$s3_url" "$fs_url" | tee "$tmp/report.md"
((compare_rc == 0)) || echo "bench-s3: some compare.sh runs failed (see the fails column)" >&2
((compare_rc == 0 && push_rc == 0))
