# syntax=docker/dockerfile:1
# Build stage: the runtime dependencies exactly as uv.lock records them (checked by hash), and
# domainwatch's wheel built by the locked hatchling, in a virtual environment.
# The version comes from the git tag; the build context has no .git, so it is passed in
# (`make image` passes `git describe`'s): docker build --build-arg VERSION=0.2.0 --build-arg REVISION=...
FROM python:3.11-slim AS build
ARG VERSION=0.0.0+unknown
WORKDIR /src
COPY pyproject.toml uv.lock README.md hatch_build.py ./
COPY scripts/lock_requirement.py scripts/install-locked.sh ./scripts/
COPY domainwatch ./domainwatch
ENV PIP_NO_CACHE_DIR=1 \
    SETUPTOOLS_SCM_PRETEND_VERSION=${VERSION}
RUN scripts/install-locked.sh /opt/domainwatch

# Runtime stage: the virtual environment, tini as PID 1, a numeric non-root user.
FROM python:3.11-slim
ARG VERSION=0.0.0+unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="domainwatch" \
      org.opencontainers.image.description="Continuous verification of email-domain DNS records" \
      org.opencontainers.image.source="https://github.com/domainwatch/domainwatch" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.* \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/domainwatch /opt/domainwatch
ENV PATH=/opt/domainwatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DOMAINWATCH_LOG_FORMAT=json \
    DOMAINWATCH_REVISION=${REVISION}
# The state's home, owned by the image's user before it is declared a volume: a compose named
# volume or a Kubernetes PVC mounted there starts out writable by the daemon.
RUN install -d -o 10001 -g 10001 -m 0700 /var/lib/domainwatch
VOLUME ["/var/lib/domainwatch"]
WORKDIR /var/lib/domainwatch
USER 10001:10001
EXPOSE 8427
# The daemon's health endpoint; python is used because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8427/livez', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["/usr/bin/tini", "--", "domainwatch"]
CMD ["run", "-c", "/etc/domainwatch/config.yaml"]
