#!/usr/bin/env bash
# node-deb.sh OUT: a "nodejs" package carrying this machine's node binary (MDEVCTL_DEB_NODE, default
# `node` on PATH), so that dpkg in a bookworm root sees our package's Depends: nodejs (>= 20)
# satisfied (bookworm's nodejs is 18). The same as scripts/deb-test-root.sh's node_deb.
set -euo pipefail
out="$1"
node="$(readlink -f "$(command -v "${MDEVCTL_DEB_NODE:-node}")")"
version="$("$node" --version)"
version="${version#v}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/DEBIAN" "$stage/usr/bin"
cp "$node" "$stage/usr/bin/node"
chmod 0755 "$stage/usr/bin/node"
cat >"$stage/DEBIAN/control" <<CTRL
Package: nodejs
Version: $version~local1
Architecture: $(dpkg --print-architecture)
Maintainer: mdevctl-ts tests <nobody@localhost>
Depends: libc6, libstdc++6, libgcc-s1
Section: javascript
Priority: optional
Description: Node.js $version for mdevctl-ts libvirt tests
 The node binary of the machine running the tests ($node).
CTRL
dpkg-deb -Znone --root-owner-group --build "$stage" "$out" >/dev/null
