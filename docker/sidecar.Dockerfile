# syntax=docker/dockerfile:1
# hotswap-sidecar (the last stage, built by default) and, as the target
# example-app, the example applications with hotswap-watch. Build from the
# repository's root:
#   docker build -f docker/sidecar.Dockerfile -t hotswap-sidecar .
#   docker build -f docker/sidecar.Dockerfile --target example-app -t hotswap-example-app .

# Build: the packages CI installs (scripts/install-deps.sh) and the build CI
# runs (make), so the image is built exactly as the tests were.
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make install PREFIX=/opt/hotswap BUILD_DIR=/build

# Applications reading through the SDK. They link it statically and need
# only the C++ runtime, which the base image has already (named here so the
# list is what the binaries need; tests/packaging checks it against ldd).
# Same user and id as the sidecar: the segments it publishes and the health
# segments the apps write are theirs to share.
FROM debian:bookworm-slim AS example-app
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 hotswap \
 && useradd --system --uid 10001 --gid hotswap --no-create-home \
      --shell /usr/sbin/nologin hotswap
COPY --from=build /build/examples/hotswap-example-app /build/examples/hotswap-example-service /usr/local/bin/
COPY --from=build /opt/hotswap/bin/hotswap-watch /usr/local/bin/
USER hotswap
ENTRYPOINT ["hotswap-example-service"]

# The sidecar: the shared libraries it needs (the packages below and what
# they depend on; tests/packaging checks the list against ldd) and curl for
# the health check.
FROM debian:bookworm-slim AS sidecar
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcapnp-0.9.2 libcurl4 libfmt9 libprometheus-cpp-core1.0 libspdlog1.10 libssl3 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 hotswap \
 && useradd --system --uid 10001 --gid hotswap --home-dir /var/lib/hotswap \
      --shell /usr/sbin/nologin hotswap \
 && mkdir -p /var/lib/hotswap/sidecar \
 && chown -R hotswap:hotswap /var/lib/hotswap
COPY --from=build /opt/hotswap/bin/hotswap-sidecar /usr/local/bin/
ENV HOTSWAP_CACHE_DIR=/var/lib/hotswap/sidecar \
    HOTSWAP_METRICS_LISTEN=0.0.0.0:7702
VOLUME ["/var/lib/hotswap/sidecar"]
USER hotswap
WORKDIR /var/lib/hotswap
EXPOSE 7702
# /healthz on --metrics-listen (HOTSWAP_METRICS_LISTEN, kept on in this image).
# No --start-period: it answers within a second of starting (and
# dockerfilelint 1.8 misreads that option's hyphen).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${HOTSWAP_METRICS_LISTEN##*:}/healthz" || exit 1
ENTRYPOINT ["hotswap-sidecar"]
