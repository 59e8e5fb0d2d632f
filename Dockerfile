# tvm container image (DESIGN §11).
#
# Binary: glibc-dynamic, built for x86_64-unknown-linux-gnu, the target tvm is
# developed and tested on. A static musl build would need a musl C toolchain for
# aws-lc-rs (rustls' crypto). The allocator is jemalloc, linked in statically
# (docs/performance.md: glibc's malloc was a fifth of tvm's CPU under load).
# The only libraries it needs (libc, libm, libgcc_s) are in the distroless "cc"
# base, with CA certificates, a `nonroot` user (65532) and no shell or package
# manager.
#
# Base images are build arguments whose defaults are the production images; CI,
# which cannot pull images, passes locally made ones (see .ci/image.sh).
#
# Targets:
#   runtime (default)  builds the binary in the `builder` stage, then copies it.
#   runtime-prebuilt   copies target/release/tvm from the build context, built by
#                      `cargo build --release --locked` beforehand (CI does this:
#                      building the builder stage too would not fit its time).
#
#   docker build -t tvm .
#   docker run --read-only --cap-drop ALL --security-opt no-new-privileges tvm dev --help

ARG RUST_IMAGE=docker.io/library/rust:1.85-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS builder
# jemalloc (tvm's allocator) is built from C source with configure and make,
# which the slim Rust image does not carry. Not pinned: make comes from whichever
# Debian release RUST_IMAGE is built on (a build argument), and only the binary
# leaves this stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin tvm \
    && install -m 0755 target/release/tvm /tvm

FROM ${RUNTIME_IMAGE} AS runtime-base
ARG VERSION=0.1.0
ARG REVISION=unknown
# The repository URL; pass it when publishing (the project has none fixed yet).
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="tvm" \
      org.opencontainers.image.description="Self-hosted AWS Token Vending Machine" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
# 8080: API (POST /vend, GET /profiles). 9090: admin (probes, /metrics).
EXPOSE 8080 9090
# `tvm serve` reads $TVM_CONFIG, else /etc/tvm/tvm.yaml (mount config there).
ENTRYPOINT ["/usr/local/bin/tvm"]
CMD ["serve"]

FROM runtime-base AS runtime-prebuilt
COPY --chmod=0755 target/release/tvm /usr/local/bin/tvm

FROM runtime-base AS runtime
COPY --from=builder /tvm /usr/local/bin/tvm
