#!/usr/bin/env bash
# `make image`: the OCI image from the Dockerfile (which installs from uv.lock), tagged with the
# git tag's version, with Debian's podman or buildah. Where neither can run here (not installed,
# or no user namespaces in this sandbox), it says why and exits 0: there is nothing to build with.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(.venv/bin/hatchling version)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
tag="ghcr.io/domainwatch/domainwatch:${version//+/-}"
builder=""
for candidate in podman buildah; do
  if command -v "$candidate" >/dev/null 2>&1; then builder=$candidate; break; fi
done
if [ -z "$builder" ]; then
  echo "make image: neither podman nor buildah is installed (apt-get install podman); no image built"
  exit 0
fi
if ! why=$("$builder" info 2>&1 >/dev/null); then
  echo "make image: $builder cannot run here: $(printf '%s' "$why" | head -n 1); no image built"
  exit 0
fi
args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision" -t "$tag" -f Dockerfile .)
if [ "$builder" = podman ]; then podman build "${args[@]}"; else buildah bud "${args[@]}"; fi
echo "make image: built $tag"
