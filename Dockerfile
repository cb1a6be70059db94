# syntax=docker/dockerfile:1
# The datazone-operator image: a stripped release binary on distroless (glibc, nonroot).

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
# Dependencies first, with stand-in sources, so a code change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY emulator/Cargo.toml emulator/Cargo.toml
RUN mkdir -p src emulator/src emulator/benches \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > emulator/src/main.rs && touch emulator/src/lib.rs \
    && echo 'fn main() {}' > emulator/benches/throughput.rs \
    && cargo build --release --locked --bin datazone-operator \
    && rm -rf src emulator/src emulator/benches
COPY src src
COPY emulator emulator
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin datazone-operator \
    && strip target/release/datazone-operator

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="datazone-operator" \
      org.opencontainers.image.description="Publishes Amazon Redshift tables and views into an Amazon DataZone catalog" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/dataproducts-dev/datazone-operator"
COPY --from=build /src/target/release/datazone-operator /usr/local/bin/datazone-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/datazone-operator"]
CMD ["run"]
