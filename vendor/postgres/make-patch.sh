#!/usr/bin/env bash
# Regenerates switchyard.patch: this folder's src/ and types/ against npm's postgres@3.4.9
# (node_modules/postgres-upstream), paths a/ b/ relative to the package root (patch -p1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
up="$here/../../node_modules/postgres-upstream"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a/types" "$work/b"
cp -r "$up/src" "$work/a/" && cp "$up/types/index.d.ts" "$work/a/types/"
cp -r "$here/src" "$here/types" "$work/b/"
cd "$work"
git diff --no-index --src-prefix=a/ --dst-prefix=b/ a b | sed -E 's#(a|b)/(a|b)/#\1/#g' > "$here/switchyard.patch" || true
