# syntax=docker/dockerfile:1
# Build: docker build -t shixincheck .   Run: see docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/shixincheck ./cmd/shixincheck

FROM debian:bookworm-slim
# Chromium comes from Debian, never from rod's downloader; the CJK font makes
# Chinese text readable in screenshots and PDFs of the evidence.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium fonts-wqy-zenhei ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/shixincheck shixincheck
COPY --from=build /out/shixincheck /usr/local/bin/shixincheck
USER shixincheck
WORKDIR /var/lib/shixincheck
ENV SHIXINCHECK_LISTEN=0.0.0.0:8080 \
    SHIXINCHECK_DATA_DIR=/var/lib/shixincheck/data \
    SHIXINCHECK_BROWSER=/usr/bin/chromium
VOLUME /var/lib/shixincheck/data
EXPOSE 8080
# The uid is fixed so the key file and TLS key mounted from the host can be
# owned by it (mode 600): see docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["/usr/bin/tini", "--", "shixincheck"]
CMD ["serve"]
