#!/usr/bin/env bash
# npm run bench:replication: Wharf replicating one 256 MiB image (8 layers of 32 MiB) to an empty
# docker-registry, against `skopeo copy` between the same two registries, in alternating order,
# plus Wharf's RSS while it replicates. Prints a markdown table. `npm run bench` runs this at its
# end unless REPLICATION=0. The work is in scripts/bench/replication.mjs.
#
# env (all optional):
#   ROUNDS=3                  rounds (each: one skopeo copy, one replication, order alternating)
#   LAYERS=8 LAYER_MIB=32     the image
#   WHARF_PORT=5115 REGISTRY_PORT=5116
#   BENCH_TMPDIR=DIR          where the image, Wharf and the registries keep data (default $TMPDIR or /tmp)
#   KEEP=1                    keep the temp directory (data, logs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v skopeo >/dev/null || { echo "bench-replication: skopeo is not installed (.ci/run installs it)" >&2; exit 2; }
command -v docker-registry >/dev/null || { echo "bench-replication: docker-registry is not installed (.ci/run installs it)" >&2; exit 2; }
[[ -f $root/core/dist/index.js ]] || { echo "bench-replication: build first (npm run build)" >&2; exit 2; }
exec node "$root/scripts/bench/replication.mjs"
