# syntax=docker/dockerfile:1
# linkbff's production image: only the linkbff binary, built without the development
# tenant, on distroless static, running as a non-root user.
#
# Both base images are pinned by digest: the tag says what it is, the digest makes
# the build reproducible and immune to a re-pushed tag. `make docker-pin` looks the
# digests up again (it needs Docker and the registries). dockerfile_test.go checks
# these rules; keep the build flags in step with the Makefile's `build` target.
#
# The Go image's tag is go.mod's `toolchain` (the release with the security fixes
# govulncheck asks for), and GOTOOLCHAIN=local makes the build use exactly that Go,
# never a download. Its digest below is a PLACEHOLDER (all zeros): it was not looked
# up where this file was written (no registry access there), so the build fails at
# this FROM until `make docker-pin` fills it in.
FROM golang:1.26.11-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build
ENV GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
WORKDIR /src
COPY go.mod go.sum ./
# Refuse an image whose Go is not go.mod's toolchain (a digest of another tag).
RUN want="go$(sed -n 's/^toolchain go//p' go.mod)" && test "$(go env GOVERSION)" = "$want" \
 || { echo "this image has $(go env GOVERSION), go.mod wants $want: fix the FROM line (make docker-pin)"; exit 1; }
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
