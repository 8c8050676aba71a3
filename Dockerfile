# The `qovery-backups` command-line tool (and so `serve`, `check`, `prune`) in a distroless image:
#
#   docker build -t qovery-backups:0.1.0 .
#
# Not built in this project's CI, which cannot pull base images; kept minimal for that reason.
# At the repository's root rather than under deploy/: the build needs the whole workspace as its
# context, and a .dockerignore at the context's root applies with every builder.
#
# The base images are pinned by tag only; pin them by digest (`image:tag@sha256:…`) where you
# build, for a build that cannot change under you.

# The Rust this project's CI uses, on Debian 12, whose glibc the final image has too.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# --locked: Cargo.lock's versions or nothing. -p: only the CLI and what it needs, so the API
# client compiles the checked-in generated code instead of building the generator.
RUN cargo build --release -p qovery-backups-cli --locked

# glibc, libgcc and the CA certificates rustls reads from the system; no shell, no package
# manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/qovery-backups /usr/local/bin/qovery-backups
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading the image's
# /etc/passwd; 65532 is distroless's `nonroot`.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/qovery-backups"]
