#!/usr/bin/env bash
# npm run bench:metrics: what a Prometheus scrape costs. Two Wharf processes on fresh data:
#   M = the metrics plugin on (open registry, /metrics readable with a scrape token)
#   O = the metrics plugin off (extensions: {})
# Manifest GET req/s at c=32 is measured on M with a scrape of /metrics every second and without
# scraping, back to back, alternating which goes first; the median of the rounds' ratios
# scraped/not scraped is the result (target >= 0.95): adjacent runs see the same machine load,
# which on a shared machine varies more from minute to minute than anything measured here.
# M without scraping against O shows what the observation hooks themselves cost (no target).
#
# env: ROUNDS=8 DURATION=5 CONCURRENCY=32 M_PORT=5125 O_PORT=5126 SHARED=DIR BENCH_TMPDIR=DIR
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SHARED:-}
if [[ -z $shared ]]; then
  for cand in "$root/../shared" /work/shared; do
    [[ -f $cand/bench/ocibench.mjs ]] && { shared=$(cd "$cand" && pwd); break; }
  done
fi
[[ -n $shared ]] || { echo "bench-metrics: cannot find shared/bench (set SHARED=DIR)" >&2; exit 2; }
[[ -f $root/core/dist/cli/main.js ]] || { echo "bench-metrics: Wharf is not built: run npm run build" >&2; exit 2; }

ROUNDS=${ROUNDS:-8} DURATION=${DURATION:-5} CONCURRENCY=${CONCURRENCY:-32}
M_PORT=${M_PORT:-5125} O_PORT=${O_PORT:-5126}
SCRAPE_TOKEN="bench-scrape-$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')"
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/wharf-bench-metrics.XXXXXX")
pids=()
scraper=''

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $scraper ]] && kill "$scraper" 2>/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  [[ ${KEEP:-0} == 1 ]] && echo "bench-metrics: temp dir kept: $tmp" >&2 || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

common='token: { enabled: false }
auth: []
rbac: {}
log: { level: warn, access: false }'
printf '%s\nextensions: { metrics: {} }\n' "$common" >"$tmp/m.yaml"
printf '%s\nextensions: {}\n' "$common" >"$tmp/o.yaml"

start() { # start NAME PORT
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/") != 000 ]]; then
    echo "bench-metrics: port $2 is taken by another process (set M_PORT/O_PORT)" >&2; return 1
  fi
  mkdir -p "$tmp/$1"
  (cd "$root" && WHARF_EXTENSIONS__METRICS__SCRAPE_TOKEN=$SCRAPE_TOKEN exec node server/bin/wharf.js serve --config "$tmp/$1.yaml" \
    --listen "127.0.0.1:$2" --data-dir "$tmp/$1" >"$tmp/$1.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 1 600); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/v2/") == 200 ]] && return 0
    sleep 0.1
  done
  echo "bench-metrics: $1 did not start; log:" >&2; tail -n 30 "$tmp/$1.log" >&2; return 1
}
start m "$M_PORT" || exit 1
start o "$O_PORT" || exit 1
code=$(curl -s -o "$tmp/first-scrape.txt" -w '%{http_code}' -H "Authorization: Bearer $SCRAPE_TOKEN" "http://127.0.0.1:$M_PORT/metrics")
[[ $code == 200 ]] || { echo "bench-metrics: /metrics answered $code to the scrape token" >&2; exit 1; }

manifest() { # manifest PORT -> req/s
  node "$shared/bench/ocibench.mjs" manifest --url "http://127.0.0.1:$1" --repo library/bench \
    --duration "$DURATION" --concurrency "$CONCURRENCY" --json 2>>"$tmp/errors.log" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.errors ? 0 : j.opsPerSec);})'
}

# One scrape per second, as Prometheus with scrape_interval: 1s would; counts failed scrapes.
scraping() { # scraping PORT -> runs until killed
  while :; do
    read -r c t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $SCRAPE_TOKEN" "http://127.0.0.1:$1/metrics")
    [[ $c == 200 ]] && echo "ok $t" >>"$tmp/scrapes" || echo "fail $c" >>"$tmp/scrapes"
    sleep 1
  done
}
with_scrapes() { # with_scrapes PORT -> req/s while scraping
  scraping "$1" & scraper=$!
  manifest "$1"
  kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null; scraper=''
}

s=() n=() o=()
for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2 == 0)); then s+=("$(with_scrapes "$M_PORT")"); n+=("$(manifest "$M_PORT")"); o+=("$(manifest "$O_PORT")")
  else o+=("$(manifest "$O_PORT")"); n+=("$(manifest "$M_PORT")"); s+=("$(with_scrapes "$M_PORT")"); fi
  echo "bench-metrics: round $((r + 1)): scraped ${s[-1]} req/s, not scraped ${n[-1]} req/s, plugin off ${o[-1]} req/s" >&2
done
ok=$(grep -c '^ok' "$tmp/scrapes" 2>/dev/null || true)
failed=$(grep -c '^fail' "$tmp/scrapes" 2>/dev/null || true)
bytes=$(wc -c <"$tmp/first-scrape.txt")
times=$(awk '/^ok/ { printf "%s ", $2 }' "$tmp/scrapes" 2>/dev/null)

node - "${s[*]}" "${n[*]}" "${o[*]}" "$CONCURRENCY" "$DURATION" "${ok:-0}" "${failed:-0}" "$bytes" "$times" <<'NODE'
const [, , s, n, o, c, d, ok, failed, bytes, times] = process.argv;
const nums = (x) => x.split(' ').filter(Boolean).map(Number);
const median = (xs) => { const v = [...xs].sort((x, y) => x - y); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
const S = median(nums(s)), N = median(nums(n)), O = median(nums(o));
const ratio = median(nums(s).map((x, i) => x / nums(n)[i]));
const offRatio = median(nums(n).map((x, i) => x / nums(o)[i]));
console.log(`| manifest GET c=${c} ${d}s (req/s, median of ${nums(s).length}) | Value | Target |`);
console.log(`|---|---|---|`);
console.log(`| metrics on, scraped every second | ${S.toFixed(1)} | – |`);
console.log(`| metrics on, not scraped | ${N.toFixed(1)} | – |`);
console.log(`| scraped / not scraped (median of the rounds' ratios: ${nums(s).map((x, i) => (x / nums(n)[i]).toFixed(2)).join(', ')}) | ${ratio.toFixed(3)} | ≥ 0.95: ${ratio >= 0.95 ? 'met' : '**not met**'} |`);
console.log(`| metrics plugin off | ${O.toFixed(1)} | – |`);
console.log(`| metrics on (not scraped) / off (median of the rounds' ratios) | ${offRatio.toFixed(3)} | – (cost of the observation hooks) |`);
const t = nums(times);
console.log(`| scrapes during the runs | ${ok} ok, ${failed} failed; ${bytes} bytes each; ${t.length ? (median(t) * 1000).toFixed(1) : '–'} ms median (under load) | all ok |`);
NODE
