# syntax=docker/dockerfile:1
# Build stage: the runtime dependencies exactly as uv.lock records them (checked by hash), and
# domainwatch's wheel built by the locked hatchling, in a virtual environment.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY scripts/lock_requirement.py scripts/install-locked.sh ./scripts/
COPY domainwatch ./domainwatch
ENV PIP_NO_CACHE_DIR=1
RUN scripts/install-locked.sh /opt/domainwatch

# Runtime stage: the virtual environment, tini as PID 1, a numeric non-root user.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.* \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/domainwatch /opt/domainwatch
ENV PATH=/opt/domainwatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DOMAINWATCH_LOG_FORMAT=json
WORKDIR /var/lib/domainwatch
USER 10001:10001
EXPOSE 8427
# The daemon's health endpoint; python is used because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8427/livez', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["/usr/bin/tini", "--", "domainwatch"]
CMD ["run", "-c", "/etc/domainwatch/config.yaml"]
