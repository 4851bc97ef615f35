#!/usr/bin/env bash
# Build the current real parts the tests run beside Debian's (issue 12): Docker Engine 29's dockerd and
# docker-proxy, a runc new enough for it, the distribution v3 registry, and buildx (the current docker
# client's BuildKit path, the differential suite's second reference: the docker 28 client on these
# machines has no buildx), each from its published Go module through the Go module proxy (no source is
# copied into this repository).
#
# Binaries go to a cache outside the checkout, one file per name and version:
#   ${CID_CACHE:-$HOME/.cache/convox-image-deploy}/bin/<name>-<version>
# and a part already there is not built again. Prints the shell assignments the test harness reads
# (CID_DOCKERD_CURRENT=…, CID_RUNC_CURRENT=…, CID_REGISTRY_V3=…), one a line, on stdout; progress goes
# to stderr.
set -euo pipefail

cache="${CID_CACHE:-$HOME/.cache/convox-image-deploy}"
bin="$cache/bin"
mkdir -p "$bin"

# Versions. The moby/moby/v2 module is tagged v2.0.0-beta.N beside each Engine release tag
# (docker-v29.x.y); beta.24 is the tag of Engine 29.8.1, the newest the Go proxy serves here.
engine_module=github.com/moby/moby/v2
engine_module_version=v2.0.0-beta.24
engine_version=29.8.1
runc_version=v1.5.3
registry_version=v3.1.2
buildx_version=v0.38.2

# runc's seccomp support links libseccomp (cgo); without it runc refuses Docker's default profile.
if ! dpkg -s libseccomp-dev gcc pkg-config >/dev/null 2>&1; then
  echo "Installing: libseccomp-dev gcc pkg-config" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq libseccomp-dev gcc pkg-config >/dev/null
fi
command -v go >/dev/null || { echo "real-parts: no 'go' on PATH; the current engine and registry need the Go toolchain" >&2; exit 1; }

# build NAME VERSION PACKAGE@MODULE_VERSION [go build flags…]: go install into a scratch GOBIN, then move
# the binary to $bin/NAME-VERSION (a half-built part never lands under its final name).
build() {
  local name=$1 version=$2 package=$3
  shift 3
  local out="$bin/$name-$version"
  if [ -x "$out" ]; then
    echo "real-parts: $name $version already built ($out)" >&2
    return
  fi
  local scratch
  scratch=$(mktemp -d)
  local started=$SECONDS
  echo "real-parts: building $name $version from $package" >&2
  GOBIN="$scratch" GOFLAGS="${GOFLAGS:-} -trimpath" go install "$@" "$package" >&2
  mv "$scratch/$(basename "${package%@*}")" "$out"
  rm -rf "$scratch"
  echo "real-parts: built $name $version in $((SECONDS - started)) s" >&2
}

engine_ldflags="-X $engine_module/dockerversion.Version=$engine_version -X $engine_module/dockerversion.GitCommit=$engine_module_version"
# btrfs's graph driver needs the kernel's btrfs headers (cgo); no test uses it.
build dockerd "$engine_version" "$engine_module/cmd/dockerd@$engine_module_version" \
  -tags exclude_graphdriver_btrfs -ldflags "$engine_ldflags"
build docker-proxy "$engine_version" "$engine_module/cmd/docker-proxy@$engine_module_version" -ldflags "$engine_ldflags"
build runc "${runc_version#v}" "github.com/opencontainers/runc@$runc_version" \
  -tags "seccomp urfave_cli_no_docs" -ldflags "-X main.version=${runc_version#v}"
build registry "${registry_version#v}" "github.com/distribution/distribution/v3/cmd/registry@$registry_version" \
  -ldflags "-X github.com/distribution/distribution/v3/version.version=$registry_version"

build buildx "${buildx_version#v}" "github.com/docker/buildx/cmd/buildx@$buildx_version" \
  -ldflags "-X github.com/docker/buildx/version.Version=$buildx_version"

echo "CID_DOCKERD_CURRENT=$bin/dockerd-$engine_version"
echo "CID_DOCKER_PROXY_CURRENT=$bin/docker-proxy-$engine_version"
echo "CID_RUNC_CURRENT=$bin/runc-${runc_version#v}"
echo "CID_REGISTRY_V3=$bin/registry-${registry_version#v}"
echo "CID_BUILDX=$bin/buildx-${buildx_version#v}"
