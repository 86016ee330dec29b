#!/bin/sh
# First command for a newcomer on a fresh Debian 12 machine, as root:
#   sh scripts/setup.sh
# Installs the dependencies, builds imagespec into build/, compiles the hello
# example's static binary and builds the example image, offline, into
# ./out/hello (an OCI image layout). Idempotent: run it again at will.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
	sh scripts/install-deps.sh
else
	echo "setup: not root: skipping scripts/install-deps.sh (run it as root once)" >&2
fi

if [ -d build/meson-private ]; then
	meson setup --reconfigure build
else
	meson setup build
fi
ninja -C build

mkdir -p examples/hello/app
cc -static -O2 -o examples/hello/app/hello examples/hello/hello.c
build/src/cli/imagespec build examples/hello/image.yaml

cat <<'MSG'

Built ./out/hello (an OCI image layout, tag "latest"). Look at it with
independent tools:

  skopeo inspect oci:out/hello:latest
  skopeo inspect --config oci:out/hello:latest
  umoci unpack --image out/hello:latest /tmp/hello-bundle
  chroot /tmp/hello-bundle/rootfs /app/hello

or load it into podman:

  skopeo copy oci:out/hello:latest docker-archive:/tmp/hello.tar:hello:latest
  podman load -i /tmp/hello.tar

Next: bash .ci/run runs the whole test suite; examples/README.md has more
images to build.
MSG
