#!/usr/bin/env bash
# Load benchmark of `tars docker-api` on loopback.
#
# Starts a private dockerd (own socket, data root and exec root in a temp dir,
# no bridge, no iptables), imports a busybox image from the local
# busybox-static binary (no registry), runs $CONTAINERS idle containers with
# network mode none, starts the proxy, and drives /api/containers and
# /api/stats/aggregate with wrk for $DURATION each. Prints throughput, p99
# latency and the proxy's RSS before/after, then removes everything it
# started (by PID) on exit, including on failure or Ctrl-C.
#
# Environment:
#   TARS_BIN      tars binary (default: cargo build --release, then target/release/tars)
#   DURATION      wrk duration per route (default 20s)
#   CONNECTIONS   wrk connections for /api/containers (default 16)
#   AGG_CONNECTIONS  wrk connections for /api/stats/aggregate (default 4)
#   CONTAINERS    containers to run (default 10)
#   PORT          proxy port on 127.0.0.1 (default 3391)
# Needs root (it runs dockerd); installs docker.io, busybox-static and wrk
# from Debian if they are missing.
set -euo pipefail

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
AGG_CONNECTIONS=${AGG_CONNECTIONS:-4}
CONTAINERS=${CONTAINERS:-10}
PORT=${PORT:-3391}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

log() { printf '[bench] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v docker >/dev/null || need_pkgs+=(docker.io)
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v curl >/dev/null || need_pkgs+=(curl)
# The image is FROM scratch, so busybox must be the static build.
{ ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic' || need_pkgs+=(busybox-static)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}"; }
fi

if [ -z "${TARS_BIN:-}" ]; then
    log "building tars (release)"
    (cd "$ROOT" && cargo build --release --quiet --bin tars)
    TARS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/tars"
fi

WORK=$(mktemp -d -t tars-bench.XXXXXX)
SOCK="$WORK/docker.sock"
export DOCKER_HOST="unix://$SOCK"
DOCKERD_PID=""
TARS_PID=""

cleanup() {
    set +e
    if [ -n "$TARS_PID" ]; then
        kill -TERM "$TARS_PID" 2>/dev/null
        wait "$TARS_PID" 2>/dev/null
    fi
    if [ -S "$SOCK" ]; then
        docker ps -aq --filter label=tars.bench | xargs -r docker rm -f >/dev/null 2>&1
    fi
    if [ -f "$WORK/docker.pid" ]; then
        pid=$(cat "$WORK/docker.pid")
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null
    fi
    # containerd and shims started by this dockerd name $WORK on their command line.
    for p in /proc/[0-9]*; do
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$WORK"; then
            kill -KILL "${p#/proc/}" 2>/dev/null
        fi
    done
    awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo '{}' >"$WORK/daemon.json"
log "starting dockerd in $WORK"
dockerd --host="unix://$SOCK" --data-root="$WORK/data" --exec-root="$WORK/exec" \
    --pidfile="$WORK/docker.pid" --config-file="$WORK/daemon.json" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --userland-proxy=false --shutdown-timeout=1 --log-level=warn \
    >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for i in $(seq 1 300); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$WORK/dockerd.log" >&2; exit 1; }
    [ "$i" = 300 ] && { log "dockerd did not come up"; tail -20 "$WORK/dockerd.log" >&2; exit 1; }
    sleep 0.2
done

mkdir -p "$WORK/rootfs/bin"
cp /bin/busybox "$WORK/rootfs/bin/busybox"
tar -C "$WORK/rootfs" -c . |
    docker import -c 'ENTRYPOINT ["/bin/busybox"]' - tars-bench-busybox:1 >/dev/null
for i in $(seq 1 "$CONTAINERS"); do
    docker run -d --network none --label tars.bench=1 --name "tars-bench-$i" \
        tars-bench-busybox:1 sleep 3600 >/dev/null
done
log "$CONTAINERS containers running"

"$TARS_BIN" docker-api --listen "127.0.0.1:$PORT" --docker-host "unix://$SOCK" \
    --log-format json 2>"$WORK/tars.log" &
TARS_PID=$!
for i in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    kill -0 "$TARS_PID" 2>/dev/null || { tail -5 "$WORK/tars.log" >&2; exit 1; }
    [ "$i" = 100 ] && { log "proxy did not come up"; exit 1; }
    sleep 0.1
done

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$TARS_PID/status"; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$TARS_PID/status"; }

RSS_IDLE=$(rss_kib)
log "proxy RSS idle: ${RSS_IDLE} KiB"

# Latency of a single aggregate with nothing else going on: the engine needs
# two collector ticks (~1 s apart) per stats sample, which sets the floor.
single=()
for _ in 1 2 3; do
    single+=("$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/api/stats/aggregate")s")
done

# A short warm-up at the same concurrency first, so thread stacks, allocator
# arenas and connection buffers exist before the "before" figure; what is
# measured afterwards is growth under sustained load.
log "warm-up 5s per route"
timeout 60 wrk -t2 -c"$CONNECTIONS" -d5s "http://127.0.0.1:$PORT/api/containers" >/dev/null
timeout 60 wrk -t2 -c"$AGG_CONNECTIONS" -d5s --timeout 30s "http://127.0.0.1:$PORT/api/stats/aggregate" >/dev/null
RSS_BEFORE=$(rss_kib)
log "proxy RSS after warm-up: ${RSS_BEFORE} KiB"

results=()
bench() {
    local route=$1 conns=$2 out="$WORK/wrk-${1//\//_}.txt"
    log "wrk $route: $conns connections, $DURATION"
    timeout 120 wrk -t2 -c"$conns" -d"$DURATION" --timeout 30s --latency \
        "http://127.0.0.1:$PORT$route" >"$out"
    local rps p99 non2xx reqs
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    reqs=$(awk '/requests in/ { print $1 }' "$out")
    non2xx=$(awk '/Non-2xx/ { print $NF }' "$out")
    results+=("$(printf '%-22s %6s conns %10s req/s  p99 %9s  requests %7s  non-2xx %s' \
        "$route" "$conns" "$rps" "$p99" "$reqs" "${non2xx:-0}")")
    log "RSS after $route: $(rss_kib) KiB"
}
bench /api/containers "$CONNECTIONS"
bench /api/stats/aggregate "$AGG_CONNECTIONS"
RSS_AFTER=$(rss_kib)
HWM=$(hwm_kib)
MISSING=$(curl -fsS "http://127.0.0.1:$PORT/metrics" |
    awk '/^tars_docker_api_aggregate_missing_containers_total/ { print $2 }')

echo
echo "tars docker-api benchmark ($CONTAINERS containers, $DURATION per route, loopback)"
printf '%s\n' "${results[@]}"
echo "single aggregate, no load: ${single[*]}"
echo "proxy RSS idle: ${RSS_IDLE} KiB  after warm-up: ${RSS_BEFORE} KiB  after both runs: ${RSS_AFTER} KiB  peak: ${HWM} KiB"
echo "containers reported missing by the aggregate during the run: ${MISSING:-0}"
