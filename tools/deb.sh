#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package for `make deb`:  sh tools/deb.sh OUT_DIR
#
# dpkg-buildpackage writes the .deb, .changes and .buildinfo into the parent of the source tree: for
# a clone, a directory that may belong to someone else. So the tree is copied to
# OUT_DIR/src/uringprov-VERSION (the files git would commit, tracked or not, without the ignored
# build outputs; without git, the tree minus build directories), built there with
# `dpkg-buildpackage -us -uc -b`, and its outputs moved into OUT_DIR; the copy is removed unless the
# build failed. debian/rules takes MB_CACHE, DEB_BUILD_PROFILES and DEB_BUILD_OPTIONS from the
# environment. Prints the paths of the outputs last.
set -eu

out=${1:?usage: sh tools/deb.sh OUT_DIR}
cd "$(dirname "$0")/.."
# The package is built the same whatever `make deb` was given: no flags or variables of the outer
# make reach debian/rules through these.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "make deb: $tool not found (packages dpkg-dev, debhelper: make deps installs them)" >&2; exit 1; }
done
version=$(dpkg-parsechangelog -S Version)
upstream=${version#*:}
upstream=${upstream%-*}

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
tree=$src/uringprov-$upstream
rm -rf "$src"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$tree"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # --ignore-failed-read: a tracked file deleted in the work tree is simply not copied.
    git ls-files -z --cached --others --exclude-standard |
        tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$tree"
else
    tar --exclude=./.git --exclude=./build --exclude='./build-*' -cf - . | tar -xf - -C "$tree"
fi

echo "make deb: dpkg-buildpackage -us -uc -b in $tree"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b); then
    echo "make deb: dpkg-buildpackage failed; the build tree is kept in $tree" >&2
    exit 1
fi
set -- "$src"/*.deb "$src"/*.ddeb "$src"/*.changes "$src"/*.buildinfo
for f in "$@"; do
    [ -e "$f" ] && mv "$f" "$out/"
done
rm -rf "$src"
echo "make deb: built into $out:"
ls -1 "$out"/*.deb "$out"/*.changes
