# irsa-emulator as a container image: offline IAM, STS, EKS DescribeCluster, OIDC issuer and the pod identity
# webhook on one HTTPS port. Needs BuildKit (Docker 23+ builds with it by default).
#
#   docker build -t irsa-emulator .
#   docker run --rm -p 8443:8443 irsa-emulator serve --listen 0.0.0.0:8443 --hostname localhost
#
# With no registry (as on this project's CI machines), build from local images and the binary cargo already
# built — scripts/local-images.sh emulator does exactly this:
#
#   docker build --build-arg RUNTIME_IMAGE=<a local Debian bookworm image> --build-arg EMULATOR_BINARY=prebuilt \
#     -t irsa-emulator .            # with the binary at .prebuilt/irsa-emulator in the build context
#
# deploy/ runs it inside a cluster. Build context: the repository root (.dockerignore keeps target/ out).

ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
# "build": compile in BUILDER_IMAGE; "prebuilt": take .prebuilt/irsa-emulator from the context (a glibc
# binary built on Debian bookworm or older, like the runtime image).
ARG EMULATOR_BINARY=build

FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p irsa-emulator --bin irsa-emulator \
    && install -D -m 0755 target/release/irsa-emulator /out/irsa-emulator

FROM ${RUNTIME_IMAGE} AS prebuilt
COPY .prebuilt/irsa-emulator /out/irsa-emulator

FROM ${EMULATOR_BINARY} AS binary

FROM ${RUNTIME_IMAGE}
# A runtime image that already has the CA certificates (the local one does) needs no package index.
RUN if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && mkdir -p /data && chown 65532:65532 /data
COPY --from=binary /out/irsa-emulator /usr/local/bin/irsa-emulator
COPY LICENSE /usr/share/doc/irsa-emulator/LICENSE
USER 65532:65532
ENV IRSA_EMULATOR_DATA_DIR=/data
VOLUME /data
EXPOSE 8443
ENTRYPOINT ["irsa-emulator"]
CMD ["serve", "--listen", "0.0.0.0:8443", "--data-dir", "/data"]
