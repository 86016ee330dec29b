#!/bin/sh
# Installs everything imagespec needs to build and to run its whole test suite
# on Debian 12. Run as root. Idempotent.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential meson ninja-build pkg-config git ca-certificates \
	libyaml-dev libyajl-dev libarchive-dev libcurl4-openssl-dev libssl-dev \
	zlib1g-dev libzstd-dev libdeflate-dev \
	skopeo umoci busybox-static python3 python3-jsonschema python3-yaml python3-cryptography \
	docker-registry apache2-utils openssl curl jq tar gzip zstd xz-utils \
	valgrind time podman strace tmux \
	scdoc zsh fish debhelper dpkg-dev
# headless Chromium loads `imagespec report --html` pages in tests/registry/report.sh (docs/choices.md, "Reports")
apt-get install -y --no-install-recommends chromium
