#!/usr/bin/env bash
# Keeps the workspace's dependency rules (docs/architecture.md): the analysis
# crates stay pure, and the proxy depends on no other crate of ours.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
deps() { cargo tree -q -p "$1" -e normal --prefix none | awk '{print $1}' | sort -u; }

# crate: what it must never pull in (directly or not).
check() {
    local crate=$1
    shift
    local have
    have=$(deps "$crate")
    for banned in "$@"; do
        if grep -qx "$banned" <<<"$have"; then
            echo "check_deps: $crate depends on $banned, which its rules forbid (docs/architecture.md)" >&2
            fail=1
        fi
    done
}

io_and_cli=(clap tokio reqwest axum hyper minijinja comfy-table bollard)
check tars-stats "${io_and_cli[@]}" serde tars-core tars-detector
check tars-detector "${io_and_cli[@]}" tars-core
check tars-core "${io_and_cli[@]}"
check tars-sim "${io_and_cli[@]}"
check tars-http clap axum minijinja bollard reqwest tars-core
check tars-prom clap axum minijinja bollard
check tars-docker-api clap tars tars-core tars-detector tars-stats
exit "$fail"
