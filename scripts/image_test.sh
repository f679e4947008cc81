#!/usr/bin/env bash
# Builds the container image from a host-built binary and runs it for real on
# the local Docker engine: each alias name, the user, the demo into a volume,
# the bare image (the retrospective), the watch until its HEALTHCHECK says
# healthy and /metrics carries tars_health_score, then the compose file's
# `testing` profile and its docker-api with the socket's group. No registry is
# needed: debian:bookworm-slim is made with debootstrap when the engine lacks
# it, and dockerd is started (and stopped at the end) when no engine answers.
#
#   bash scripts/image_test.sh          (as root, or a user of the docker group)
#
# Environment: TARS_IMAGE (default tars:local), DEBIAN_MIRROR (default
# http://deb.debian.org/debian), TARS_IMAGE_BUILD_NETWORK (default host: the
# build's apt-get reaches the mirror without the engine's NAT),
# TARS_IMAGE_SKIP_COMPOSE=1 skips the compose run.
# Exits non-zero with a line starting "image_test: FAIL" on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${TARS_IMAGE:-tars:local}
BASE=debian:bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NETWORK=${TARS_IMAGE_BUILD_NETWORK:-host}
GA=2025-11-18T00:00:00Z
ALIASES="tars-ga-kpi tars-stability-monitor tars-anomaly-detector tars-health-report tars-regression-analyzer tars-retro"
# Names of what this run creates, so that cleanup removes only those.
RUN_ID="tars-image-test-$$"
WORK=target/image-test
mkdir -p "$WORK"

say() { echo "image_test: $*"; }
fail() {
  echo "image_test: FAIL: $*" >&2
  exit 1
}

T0=$(date +%s)
TIMINGS=""
# step NAME COMMAND...: runs COMMAND and records how long it took.
step() {
  local name=$1 s
  shift
  s=$(date +%s)
  say "$name ..."
  "$@"
  TIMINGS="$TIMINGS$(printf '  %-34s %4ds' "$name" $(($(date +%s) - s)))"$'\n'
}

DOCKERD_PID=""
COMPOSE_UP=""
cleanup() {
  local rc=$?
  docker rm -f -v "$RUN_ID-watch" >/dev/null 2>&1 || true
  docker volume rm -f "$RUN_ID-data" >/dev/null 2>&1 || true
  if [ -n "$COMPOSE_UP" ]; then
    docker-compose -p "$RUN_ID" -f docker-compose.yaml --profile testing --profile monitoring \
      down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  remove_rootfs || true
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
  fi
  if [ -n "$TIMINGS" ]; then
    echo "image_test: timings"
    printf '%s' "$TIMINGS"
    printf '  %-34s %4ds\n' total $(($(date +%s) - T0))
  fi
  [ "$rc" -eq 0 ] && say "OK" || echo "image_test: FAIL (exit $rc)" >&2
}
trap cleanup EXIT

# --- the engine -----------------------------------------------------------
engine() {
  command -v docker >/dev/null || fail "no docker client (apt-get install docker.io)"
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || fail "no Docker engine answers and there is no dockerd to start"
  say "no engine answers: starting dockerd (log: $WORK/dockerd.log)"
  dockerd >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || fail "dockerd exited: $(tail -5 "$WORK/dockerd.log")"
    sleep 1
  done
  fail "dockerd did not answer in 60 s: $(tail -5 "$WORK/dockerd.log")"
}

# --- debian:bookworm-slim without a registry --------------------------------
base_image() {
  if docker image inspect "$BASE" >/dev/null 2>&1; then
    say "$BASE is in the engine"
    return 0
  fi
  command -v debootstrap >/dev/null || fail "$BASE is absent and there is no debootstrap (apt-get install debootstrap)"
  ROOTFS=$(mktemp -d "$PWD/$WORK/rootfs.XXXXXX")
  debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    fail "debootstrap failed: $(tail -5 "$WORK/debootstrap.log")"
  unmount_below "$ROOTFS"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  # The engine mounts its own /proc, /sys and /dev.
  tar -C "$ROOTFS" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
    docker import --change 'CMD ["bash"]' - "$BASE" >/dev/null ||
    fail "docker import of the debootstrap tree failed"
  remove_rootfs
}

# Anything debootstrap left mounted in the tree (proc, sys, a bound /dev),
# deepest first, so that removing the tree never reaches the host's files.
unmount_below() {
  local m
  for m in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" || fail "cannot unmount $m"
  done
}

remove_rootfs() {
  [ -n "${ROOTFS:-}" ] || return 0
  unmount_below "$ROOTFS"
  rm -rf --one-file-system "$ROOTFS"
  ROOTFS=""
}

binary() {
  nice -n 5 cargo build --release --locked --bin tars >"$WORK/cargo.log" 2>&1 ||
    fail "cargo build --release failed: $(tail -5 "$WORK/cargo.log")"
}

build() {
  docker build --network "$NETWORK" --target runtime-prebuilt -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
    fail "docker build failed: $(tail -15 "$WORK/build.log")"
}

# --- what the image must do ---------------------------------------------------
# Containers run with --network none: none of these needs a network, and the
# engine's default bridge is not to be relied on (on a shared CI host other
# jobs' engines have removed docker0 mid-run).
# expect WHAT NEEDLE COMMAND...: COMMAND succeeds and its output contains NEEDLE.
expect() {
  local what=$1 needle=$2 out
  shift 2
  out=$("$@" 2>&1) || fail "$what: exit $? from: $*"$'\n'"$out"
  case "$out" in
    *"$needle"*) ;;
    *) fail "$what: no '$needle' in the output of: $*"$'\n'"$out" ;;
  esac
}

names() {
  local a version
  version=$(docker run --rm --network none "$IMAGE" --version) || fail "docker run $IMAGE --version"
  case "$version" in tars\ *) ;; *) fail "--version printed '$version'" ;; esac
  for a in $ALIASES; do
    # As the first argument (the seeds' form), and by argv[0] through the link.
    expect "$a as argument" "$a ${version#tars }" docker run --rm --network none "$IMAGE" "$a" --version
    expect "$a as argv[0]" "$a ${version#tars }" docker run --rm --network none --entrypoint "$a" "$IMAGE" --version
  done
  expect "tars-ga-kpi --help" "--prometheus-url" docker run --rm --network none "$IMAGE" tars-ga-kpi --help
  expect "watch --help" "--listen" docker run --rm --network none "$IMAGE" watch --help
}

layout() {
  local uid
  uid=$(docker run --rm --network none --entrypoint id "$IMAGE" -u) || fail "id -u in the container"
  [ "$uid" = 1000 ] || fail "the container runs as uid $uid, not 1000"
  # One binary; the alias names are symbolic links to it.
  expect "one binary" "ok" docker run --rm --network none --entrypoint sh "$IMAGE" -c '
    set -e
    for a in '"$ALIASES"'; do [ "$(readlink /usr/local/bin/$a)" = tars ]; done
    [ "$(find /usr/local/bin -type f | wc -l)" = 1 ]
    for f in /usr/share/bash-completion/completions/tars /usr/share/zsh/vendor-completions/_tars \
      /usr/share/fish/vendor_completions.d/tars.fish /usr/share/man/man1/tars.1 \
      /usr/share/man/man1/tars-ga-kpi.1; do [ -s "$f" ]; done
    echo ok'
}

demo_then_retro() {
  local vol="$RUN_ID-data"
  docker volume create "$vol" >/dev/null
  expect "demo into a volume" "GA_7DAY_RETROSPECTIVE" docker run --rm --network none -v "$vol:/data" "$IMAGE" demo --data-dir /data
  # The bare image: the default command writes the retrospective from /data.
  docker run --rm --network none -v "$vol:/data" "$IMAGE" >"$WORK/retro.log" 2>&1 ||
    fail "bare docker run $IMAGE (tars-retro --auto): $(tail -5 "$WORK/retro.log")"
  expect "retrospective written" "GA_7DAY_RETROSPECTIVE.md" \
    docker run --rm --network none -v "$vol:/data" --entrypoint ls "$IMAGE" /data/output
  # Also into a directory outside the volume, as the brief's first form.
  expect "demo in /tmp" "GA_7DAY_RETROSPECTIVE" docker run --rm --network none "$IMAGE" demo --data-dir /tmp/d
}

# in_container_get CONTAINER PATH: GET http://127.0.0.1:9464/PATH inside the
# container with bash alone (no curl in the image), so that neither the host's
# bridge nor a published port is needed (on a shared host docker0 can vanish).
in_container_get() {
  timeout 10 docker exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464 &&
    printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$1" >&3 && cat <&3' _ "$2"
}

watch_healthy() {
  local name="$RUN_ID-watch" metrics=""
  # The image's HEALTHCHECK command, checked every 2 s instead of 30 s; locked
  # down as the Kubernetes manifests run it (read-only root, no capabilities).
  docker run -d --network none --name "$name" --health-interval 2s --health-start-period 5s \
    --read-only --cap-drop ALL --security-opt no-new-privileges \
    "$IMAGE" watch --source sim:regressions --ga-timestamp "$GA" --data-dir /data >/dev/null ||
    fail "docker run -d $IMAGE watch"
  wait_healthy "$name" 120
  say "HEALTHCHECK healthy; waiting for tars_health_score on /metrics"
  for _ in $(seq 180); do
    metrics=$(in_container_get "$name" /metrics 2>/dev/null || true)
    case "$metrics" in *tars_health_score*) break ;; esac
    sleep 1
  done
  case "$metrics" in
    *tars_health_score*) ;;
    *) fail "no tars_health_score on /metrics after 180 s: $(docker logs --tail 10 "$name" 2>&1)" ;;
  esac
  # Ready (200) once the past week is caught up; 503 "catching up" until then.
  wait_probe "$name" http://127.0.0.1:9464/readyz 120
  [ "$(docker exec "$name" id -u)" = 1000 ] || fail "the watch does not run as uid 1000"
  # SIGTERM stops it cleanly.
  docker stop -t 20 "$name" >/dev/null
  [ "$(docker inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] ||
    fail "the watch exited $(docker inspect -f '{{.State.ExitCode}}' "$name") on SIGTERM"
}

# wait_healthy CONTAINER SECONDS: until the engine reports the HEALTHCHECK healthy.
wait_healthy() {
  local id=$1 limit=$2 health=""
  for _ in $(seq "$limit"); do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo gone)
    [ "$health" = healthy ] && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ] ||
      fail "$id exited: $(docker logs --tail 10 "$id" 2>&1)"
    sleep 1
  done
  fail "$id: HEALTHCHECK is '$health' after $limit s: $(docker inspect -f '{{json .State.Health}}' "$id")"
}

# wait_probe CONTAINER URL SECONDS: until `tars probe URL` inside succeeds.
wait_probe() {
  local id=$1 url=$2 limit=$3
  for _ in $(seq "$limit"); do
    docker exec "$id" tars probe "$url" 2>/dev/null && return 0
    sleep 1
  done
  docker exec "$id" tars probe "$url" ||
    fail "$url still fails after $limit s: $(docker logs --tail 10 "$id" 2>&1)"
}

compose() {
  command -v docker-compose >/dev/null || {
    say "no docker-compose: skipping the compose run"
    return 0
  }
  local profile id
  for profile in "" ga-day daily monitoring day7 watch testing; do
    docker-compose -f docker-compose.yaml ${profile:+--profile "$profile"} config -q ||
      fail "docker-compose config${profile:+ --profile $profile}"
  done
  # The testing profile needs no Prometheus: the demo, then the watch on the
  # simulator until the compose healthcheck (tars probe, every 30 s) passes.
  local dc=(docker-compose -p "$RUN_ID" -f docker-compose.yaml --profile testing)
  COMPOSE_UP=1
  TARS_IMAGE="$IMAGE" "${dc[@]}" up --no-build --exit-code-from demo demo >"$WORK/compose.log" 2>&1 ||
    fail "docker-compose --profile testing up demo: $(tail -10 "$WORK/compose.log")"
  TARS_IMAGE="$IMAGE" "${dc[@]}" up -d --no-build watch-sim >>"$WORK/compose.log" 2>&1 ||
    fail "docker-compose --profile testing up -d watch-sim: $(tail -10 "$WORK/compose.log")"
  id=$(TARS_IMAGE="$IMAGE" "${dc[@]}" ps -q watch-sim)
  [ -n "$id" ] || fail "docker-compose ps: no watch-sim container"
  wait_healthy "$id" 90
  [ -S /var/run/docker.sock ] || return 0
  # docker-api reaches the socket through the group DOCKER_GID names, and
  # refuses to start without it.
  local api=(docker-compose -p "$RUN_ID" -f docker-compose.yaml --profile monitoring)
  id=$(TARS_IMAGE="$IMAGE" DOCKER_GID=$(stat -c %g /var/run/docker.sock) TARS_DOCKER_API_TOKEN="$RUN_ID" \
    "${api[@]}" run -d docker-api 2>>"$WORK/compose.log") ||
    fail "docker-compose run docker-api: $(tail -5 "$WORK/compose.log")"
  id=$(echo "$id" | tail -1)
  # /health answers 200 only when the engine does, through the socket's group.
  wait_probe "$id" http://127.0.0.1:3001/health 20
  # The token from .env reaches it: /api/* is closed without one.
  if docker exec "$id" tars probe http://127.0.0.1:3001/api/system/info 2>/dev/null; then
    fail "docker-api answers /api/* without the token TARS_DOCKER_API_TOKEN set"
  fi
  docker rm -f -v "$id" >/dev/null
  if TARS_IMAGE="$IMAGE" "${api[@]}" run -d docker-api >>"$WORK/compose.log" 2>&1; then
    fail "docker-api started without DOCKER_GID"
  fi
  grep -q "set-DOCKER_GID-in-.env" "$WORK/compose.log" || fail "docker-api without DOCKER_GID: no hint in $(tail -3 "$WORK/compose.log")"
}

step "engine" engine
step "base image ($BASE)" base_image
step "cargo build --release" binary
step "docker build runtime-prebuilt" build
step "names, --version, --help" names
step "user, links, completions, man" layout
step "demo, then the bare image" demo_then_retro
step "watch healthy + /metrics" watch_healthy
[ "${TARS_IMAGE_SKIP_COMPOSE:-}" = 1 ] || step "docker-compose (testing)" compose
