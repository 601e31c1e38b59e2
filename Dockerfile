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
# Chromium runs as uid 10001 with its sandbox on (the scraper turns it off
# only for root): the user-namespace sandbox, which needs no setuid helper,
# so chromium-sandbox (a Recommends) is left out on purpose. Docker's default
# seccomp profile lets a container create namespaces only when it has
# CAP_SYS_ADMIN: docker-compose.yml adds it together with no-new-privileges,
# so no process of uid 10001 ever holds it (README, "Production").
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
# Healthy once the port accepts a connection: the daemon listens only after
# the ledger, Redis, the browser and the workers are up. /dev/tcp is bash's
# (Debian's /bin/sh is dash, which has none); plain TCP works for HTTP and HTTPS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["/usr/bin/tini", "--", "shixincheck"]
CMD ["serve"]
