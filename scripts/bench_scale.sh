#!/usr/bin/env bash
# Fleet-size benchmark of the daily runs (issue 16): the GA baseline
# (`tars ga-kpi`, day 0), a day's stability run (`tars stability-monitor
# --day-number 1`) and the day's anomaly pass (`tars anomaly-detector --once`
# over day 1), against a backend holding N services x 8 KPIs at 1-minute
# resolution.
#
#   scripts/bench_scale.sh prometheus N...   real Prometheus, backfilled with
#                                            promtool from the simulator
#   scripts/bench_scale.sh serve N...        loopback server with generated
#                                            answers (benches/scale.rs)
#
# Prints one tab-separated row per run: backend, services, command, API
# requests the backend answered, wall s, tool CPU s (user+sys), tool peak RSS
# MiB, backend CPU s during the run. Everything it starts is killed by PID on
# exit; the backfill input is deleted as soon as promtool has read it.
#
# Environment:
#   ROUNDS   runs of each command (default 3)
#   TARS_BIN the tars binary to measure (default target/release/tars)
#   CARGO    how to run cargo (e.g. "flock /tmp/tars-cargo.lock cargo")
#   WORK     scratch directory (default: a new temp dir, removed at the end)
#   DAYS     days of history backfilled from GA (default 2: day 0 and day 1,
#            all that the three runs read)
#   WEEK     when set, also the anomaly pass over the whole week, GA to day 7
#            (one answer of 10,080 points a series per KPI; with prometheus,
#            set DAYS=7)
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DAYS=${DAYS:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:?usage: bench_scale.sh prometheus|serve N...}
shift
OWN_WORK=
if [ -z "${WORK:-}" ]; then
    WORK=$(mktemp -d)
    OWN_WORK=1
fi
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "$OWN_WORK" ] && rm -rf "$WORK"
    return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

log() { printf '[scale] %s\n' "$*" >&2; }

cd "$ROOT"
# Builds target/release/tars too.
CARGO_BUILD_JOBS=1 ${CARGO:-cargo} bench --no-run --bench scale >&2
SCALE=$(ls -t target/release/deps/scale-* | grep -v '\.d$' | head -1)
TARS=${TARS_BIN:-$ROOT/target/release/tars}
TICK=$(getconf CLK_TCK)
GA=$("$SCALE" ga)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# utime + stime of a process, seconds.
cpu_of() { awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

start_prometheus() {
    local n=$1 dir=$WORK/prom-$n
    rm -rf "$dir" && mkdir -p "$dir"
    log "backfilling $n services, $DAYS days"
    /usr/bin/time -f '[scale] history written in %e s' \
        "$SCALE" backfill "$n" $((GA - 3600)) $((GA + DAYS * 86400)) "$dir/history.om"
    /usr/bin/time -f '[scale] promtool took %e s, peak RSS %M KiB' \
        promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration=240h \
        "$dir/history.om" "$dir/data" >/dev/null
    rm -f "$dir/history.om"
    printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' >"$dir/prometheus.yml"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
        --log.level=warn 2>"$dir/log" &
    BACKEND_PID=$!
    PIDS+=("$BACKEND_PID")
    URL=http://127.0.0.1:$port
    for _ in $(seq 1 120); do
        curl -sf "$URL/-/ready" >/dev/null && return 0
        sleep 1
    done
    log "prometheus did not get ready: $(tail -5 "$dir/log")"
    exit 1
}

start_serve() {
    local n=$1
    "$SCALE" serve "$n" >"$WORK/serve-$n.url" &
    BACKEND_PID=$!
    PIDS+=("$BACKEND_PID")
    for _ in $(seq 1 50); do
        [ -s "$WORK/serve-$n.url" ] && break
        sleep 0.1
    done
    URL=$(cat "$WORK/serve-$n.url")
}

# API requests the backend has answered so far.
requests() {
    if [ "$MODE" = serve ]; then
        curl -sf "$URL/count"
    else
        curl -sf "$URL/metrics" | awk '/^prometheus_http_requests_total\{.*handler="\/api\/v1\/query(_range)?"/ { s += $NF } END { print s + 0 }'
    fi
}

# run NAME ARGS...: one timed run of tars, one row.
run() {
    local name=$1 n=$2
    shift 2
    local q0 c0 q1 c1
    q0=$(requests)
    c0=$(cpu_of "$BACKEND_PID")
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$TARS" "$@" --prometheus-url "$URL" \
        >/dev/null 2>"$WORK/stderr" || {
        log "$name failed: $(tail -3 "$WORK/stderr")"
        return 0
    }
    c1=$(cpu_of "$BACKEND_PID")
    q1=$(requests)
    read -r wall user sys rss <"$WORK/time"
    awk -v b="$MODE" -v n="$n" -v name="$name" -v q=$((q1 - q0)) -v w="$wall" -v u="$user" \
        -v s="$sys" -v r="$rss" -v c0="$c0" -v c1="$c1" \
        'BEGIN { printf "%s\t%d\t%s\t%d\t%.2f\t%.2f\t%.0f\t%.2f\n", b, n, name, q, w, u + s, r / 1024, c1 - c0 }'
}

printf 'backend\tservices\tcommand\trequests\twall_s\tcpu_s\tpeak_rss_mib\tbackend_cpu_s\n'
for n in "$@"; do
    if [ "$MODE" = serve ]; then start_serve "$n"; else start_prometheus "$n"; fi
    data=$WORK/data-$n
    rm -rf "$data" && mkdir -p "$data"
    for _ in $(seq 1 "$ROUNDS"); do
        run ga-kpi "$n" ga-kpi --ga-timestamp "$(iso "$GA")" --data-dir "$data" \
            --output-dir "$data/ga_kpis"
        run stability-day "$n" stability-monitor --day-number 1 --data-dir "$data" \
            --ga-baseline "$data/ga_kpis/ga_kpi_summary.json"
        rm -f "$data"/anomaly*/*.json
        run anomaly-day "$n" anomaly-detector --once --ga-timestamp "$(iso "$GA")" \
            --since "$(iso $((GA + 86400)))" --until "$(iso $((GA + 2 * 86400)))" \
            --data-dir "$data" --output-file "$data/anomalies.json"
        rm -f "$data/anomalies.json"
        if [ -n "${WEEK:-}" ]; then
            run anomaly-week "$n" anomaly-detector --once --ga-timestamp "$(iso "$GA")" \
                --since "$(iso "$GA")" --until "$(iso $((GA + 7 * 86400)))" \
                --data-dir "$data" --output-file "$data/anomalies.json"
            rm -f "$data/anomalies.json"
        fi
    done
    kill "$BACKEND_PID" 2>/dev/null || true
    wait "$BACKEND_PID" 2>/dev/null || true
    rm -rf "$WORK/prom-$n" "$data"
done
