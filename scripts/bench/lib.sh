# Shell helpers shared by the bench scripts (bench.sh, bench-s3.sh, bench-replication.sh).
# Source it after setting BENCH_NAME (the prefix of every message, e.g. `bench-s3`).

stop_pid() {
  # stop_pid PID: SIGTERM, then SIGKILL after 10 s; only the processes the script started.
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
}

wait_ready() {
  # wait_ready NAME URL PID LOG: until URL answers 200 or 401 (for a registry: its /v2/), or the
  # process dies; 60 s at most.
  local name=$1 url=$2 pid=$3 log=$4 code
  for _ in $(seq 1 1200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$BENCH_NAME: $name exited during startup; last log lines:" >&2; tail -n 40 "$log" >&2; return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)
    [[ $code == 200 || $code == 401 ]] && return 0
    sleep 0.05
  done
  echo "$BENCH_NAME: $name not ready after 60 s; last log lines:" >&2; tail -n 40 "$log" >&2; return 1
}

ports_free() {
  # ports_free PORT...: exits 2 when something already listens on one of them.
  local port
  for port in "$@"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null; then
      echo "$BENCH_NAME: something already listens on 127.0.0.1:$port" >&2
      exit 2
    fi
  done
}
