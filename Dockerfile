# irsa-emulator as a container image: offline IAM, STS, EKS DescribeCluster, OIDC issuer and the pod identity
# webhook on one HTTPS port.
#
#   docker build -t irsa-emulator .
#   docker run --rm -p 8443:8443 irsa-emulator serve --listen 0.0.0.0:8443 --hostname localhost
#
# deploy/ runs it inside a cluster. Build context: the repository root (.dockerignore keeps target/ out).

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p irsa-emulator --bin irsa-emulator \
    && install -D -m 0755 target/release/irsa-emulator /out/irsa-emulator

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown 65532:65532 /data
COPY --from=builder /out/irsa-emulator /usr/local/bin/irsa-emulator
COPY LICENSE /usr/share/doc/irsa-emulator/LICENSE
USER 65532:65532
ENV IRSA_EMULATOR_DATA_DIR=/data
VOLUME /data
EXPOSE 8443
ENTRYPOINT ["irsa-emulator"]
CMD ["serve", "--listen", "0.0.0.0:8443", "--data-dir", "/data"]
