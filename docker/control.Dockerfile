# syntax=docker/dockerfile:1
# hotswap-control (and hotswapctl beside it). Build from the repository's
# root: docker build -f docker/control.Dockerfile -t hotswap-control .

# Build: the packages CI installs (scripts/install-deps.sh) and the build CI
# runs (make), so the image is built exactly as the tests were.
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make install PREFIX=/opt/hotswap BUILD_DIR=/build

# Runtime: the shared libraries the binaries need (the packages below and
# what they depend on; tests/packaging checks the list against ldd), curl
# for the health check, CA certificates for webhooks over HTTPS.
FROM debian:bookworm-slim AS control
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcapnp-0.9.2 libcurl4 libfmt9 libprometheus-cpp-core1.0 libspdlog1.10 \
      libhiredis0.14 libjemalloc2 libpq5 libsimdjson14 libsqlite3-0 libssl3 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 hotswap \
 && useradd --system --uid 10001 --gid hotswap --home-dir /var/lib/hotswap \
      --shell /usr/sbin/nologin hotswap \
 && mkdir -p /var/lib/hotswap \
 && chown hotswap:hotswap /var/lib/hotswap
COPY --from=build /opt/hotswap/bin/hotswap-control /opt/hotswap/bin/hotswapctl /usr/local/bin/
ENV HOTSWAP_DATA_DIR=/var/lib/hotswap \
    HOTSWAP_HTTP_LISTEN=0.0.0.0:7700 \
    HOTSWAP_RPC_LISTEN=0.0.0.0:7701 \
    HOTSWAP_URL=http://127.0.0.1:7700
VOLUME ["/var/lib/hotswap"]
USER hotswap
WORKDIR /var/lib/hotswap
EXPOSE 7700 7701
# /healthz needs no token; the port is the one HOTSWAP_HTTP_LISTEN names. No
# --start-period: control answers within a second of starting (and
# dockerfilelint 1.8 misreads that option's hyphen).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${HOTSWAP_HTTP_LISTEN##*:}/healthz" || exit 1
ENTRYPOINT ["hotswap-control"]
