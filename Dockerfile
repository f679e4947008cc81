# One binary, /usr/local/bin/tars, plus a symbolic link for each of the six
# alias names (tars dispatches on argv[0], or on a first argument naming one):
#   docker run IMAGE                        the retrospective (CMD below)
#   docker run IMAGE tars-ga-kpi --help     an alias, as the seeds call it
#   docker run IMAGE watch --source ...     any tars command
#
# Two ways to get the binary into the image:
#   docker build -t tars:local .
#       target `runtime` (the default): compiles in rust:1-bookworm (needs a registry).
#   cargo build --release --locked --bin tars
#   docker build --target runtime-prebuilt -t tars:local .
#       copies target/release/tars from the build context: no Rust image needed,
#       only debian:bookworm-slim (scripts/image_test.sh makes one with debootstrap).
# The prebuilt stages come before the builder so that the legacy builder, which
# builds every stage up to --target, never touches rust:1-bookworm for them.

# Runtime base: CA roots (Prometheus and webhooks over TLS), time zones, the
# user, and everything the two final stages share except the binary.
FROM debian:bookworm-slim AS runtime-base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 tars \
 && useradd --uid 1000 --gid 1000 --home-dir /data --no-create-home --shell /usr/sbin/nologin tars \
 && mkdir -p /data/output \
 && chown -R 1000:1000 /data
# TARS_LISTEN: the watch listens on every interface (EXPOSE 9464), and
# `tars probe` turns 0.0.0.0 into loopback for the health check.
ENV TARS_DATA_DIR=/data \
    TARS_OUTPUT_DIR=/data/output \
    TARS_LISTEN=0.0.0.0:9464
WORKDIR /data
EXPOSE 9464
# Meaningful for `watch` (its /healthz). A one-shot command exits before the
# first check; compose and Kubernetes turn it off for those.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["tars", "probe"]
ENTRYPOINT ["tars"]
CMD ["tars-retro", "--auto", "--output-dir", "/data/output"]

# Final stage for a binary built on the host (CI, scripts/image_test.sh).
FROM runtime-base AS runtime-prebuilt
COPY target/release/tars /usr/local/bin/tars
RUN cd /usr/local/bin \
 && for a in tars-ga-kpi tars-stability-monitor tars-anomaly-detector tars-health-report tars-regression-analyzer tars-retro; do ln -s tars "$a"; done \
 && mkdir -p /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions /usr/share/fish/vendor_completions.d /usr/share/man/man1 \
 && tars completions bash > /usr/share/bash-completion/completions/tars \
 && tars completions zsh > /usr/share/zsh/vendor-completions/_tars \
 && tars completions fish > /usr/share/fish/vendor_completions.d/tars.fish \
 && tars man --out-dir /usr/share/man/man1 >/dev/null
USER 1000:1000
VOLUME ["/data"]

# Build stage: the lock file is honoured so the image matches what CI tested.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin tars

# Final stage (the default target): the binary from the build stage, then the
# same steps as runtime-prebuilt (tests/deploy.rs checks they match).
FROM runtime-base AS runtime
COPY --from=builder /src/target/release/tars /usr/local/bin/tars
RUN cd /usr/local/bin \
 && for a in tars-ga-kpi tars-stability-monitor tars-anomaly-detector tars-health-report tars-regression-analyzer tars-retro; do ln -s tars "$a"; done \
 && mkdir -p /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions /usr/share/fish/vendor_completions.d /usr/share/man/man1 \
 && tars completions bash > /usr/share/bash-completion/completions/tars \
 && tars completions zsh > /usr/share/zsh/vendor-completions/_tars \
 && tars completions fish > /usr/share/fish/vendor_completions.d/tars.fish \
 && tars man --out-dir /usr/share/man/man1 >/dev/null
USER 1000:1000
VOLUME ["/data"]
