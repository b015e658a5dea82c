# syntax=docker/dockerfile:1
# linkbff's production image: only the linkbff binary, built without the development
# tenant, on distroless static, running as a non-root user.
#
# Both base images are pinned by digest: the tag says what it is, the digest makes
# the build reproducible and immune to a re-pushed tag. `make docker-pin` looks the
# digests up again (it needs Docker and the registries). dockerfile_test.go checks
# these rules; keep the build flags in step with the Makefile's `build` target.
#
# The Go image is the Go release line of go.mod's `toolchain`; GOTOOLCHAIN names that
# exact toolchain (the release with the security fixes govulncheck asks for), which the
# go command fetches from the module proxy and checks against the checksum database
# before it builds anything. The image's own Go only starts it. The digest is one that
# public projects pin for this tag; `make docker-pin` takes the registry's current one.
FROM golang:1.26@sha256:9edf71320ef8a791c4c33ec79f90496d641f306a91fb112d3d060d5c1cee4e20 AS build
ENV GOTOOLCHAIN=go1.26.11 CGO_ENABLED=0 GOFLAGS=-mod=readonly
WORKDIR /src
COPY go.mod go.sum ./
# Refuse a build whose Go is not go.mod's toolchain.
RUN want="go$(sed -n 's/^toolchain go//p' go.mod)" && test "$(go env GOVERSION)" = "$want" \
 || { echo "the build runs $(go env GOVERSION), go.mod wants $want: fix GOTOOLCHAIN in the Dockerfile"; exit 1; }
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
# The page (frontend/static) and the contract are embedded into the binary; the
# development tenant is left out (-tags nodevtenant).
RUN go build -trimpath -tags nodevtenant \
      -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/linkbff ./cmd/linkbff

# distroless static, nonroot: CA certificates and tzdata, no shell, no package manager.
# The digest is one that public projects pin for this tag; `make docker-pin` takes
# the registry's current one.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="linkbff" \
      org.opencontainers.image.description="Account-linking backend-for-frontend for Auth0" \
      org.opencontainers.image.source="https://github.com/linkbff/linkbff" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/linkbff /usr/local/bin/linkbff
USER nonroot:nonroot
ENV LISTEN_ADDR=:3000 LOG_FORMAT=json
EXPOSE 3000
# No shell or curl in the image: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/linkbff", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/linkbff"]
