# syntax=docker/dockerfile:1
# Build stage: the lock file is honoured so the image matches what CI tested.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bins

# Runtime stage: only the binaries and CA roots (Prometheus and webhooks over TLS).
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 tars \
 && useradd --uid 1000 --gid 1000 --home-dir /data --no-create-home --shell /usr/sbin/nologin tars \
 && mkdir -p /data/output \
 && chown -R 1000:1000 /data
COPY --from=builder /src/target/release/tars /usr/local/bin/tars
COPY --from=builder /src/target/release/tars-ga-kpi /usr/local/bin/tars-ga-kpi
COPY --from=builder /src/target/release/tars-stability-monitor /usr/local/bin/tars-stability-monitor
COPY --from=builder /src/target/release/tars-anomaly-detector /usr/local/bin/tars-anomaly-detector
COPY --from=builder /src/target/release/tars-health-report /usr/local/bin/tars-health-report
COPY --from=builder /src/target/release/tars-regression-analyzer /usr/local/bin/tars-regression-analyzer
COPY --from=builder /src/target/release/tars-retro /usr/local/bin/tars-retro
ENV TARS_DATA_DIR=/data \
    TARS_OUTPUT_DIR=/data/output
USER 1000:1000
WORKDIR /data
VOLUME ["/data"]
# The jobs are batch runs, so "healthy" means the binary starts and the data
# volume is writable, which is what a run needs.
HEALTHCHECK --interval=60s --timeout=10s --start-period=10s --retries=3 \
  CMD ["/bin/sh", "-c", "tars --version >/dev/null && test -w /data"]
ENTRYPOINT ["tars-retro"]
CMD ["--auto", "--output-dir", "/data/output"]
