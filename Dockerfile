# syntax=docker/dockerfile:1
# linkbff: build the page and the binary, run as non-root on a minimal base.
# Keep in step with the Makefile's `build` target (same flags).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The page (frontend/static) is embedded into the binary by go:embed.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/linkbff ./cmd/linkbff \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/devtenant ./cmd/devtenant

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/linkbff /usr/local/bin/linkbff
COPY --from=build /out/devtenant /usr/local/bin/devtenant
USER nonroot:nonroot
ENV LISTEN_ADDR=:3000 LOG_FORMAT=json
EXPOSE 3000
# No shell or curl in the image: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/linkbff", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/linkbff"]
