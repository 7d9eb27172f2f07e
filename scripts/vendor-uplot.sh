#!/usr/bin/env bash
# Re-fetches the vendored uPlot (crates/report/assets/vendor/) from the npm registry.
#
# The version and the tarball's sha512 integrity (as `npm view uplot@VERSION dist.integrity`
# prints it) are pinned below; the script refuses a tarball whose hash differs. To update: set
# VERSION to the new 1.6.x, set INTEGRITY to that version's dist.integrity, run this script,
# update crates/report/assets/vendor/README.md and look at a rendered report.
set -euo pipefail

VERSION=1.6.32
INTEGRITY="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/crates/report/assets/vendor"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cd "$scratch"
npm pack --silent "uplot@$VERSION" >/dev/null
tarball="uplot-$VERSION.tgz"
[[ -f "$tarball" ]] || { echo "vendor-uplot: npm pack made no $tarball" >&2; exit 1; }

# npm's integrity string is "sha512-" + base64 of the tarball's SHA-512 digest.
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$got" != "$INTEGRITY" ]]; then
  echo "vendor-uplot: integrity mismatch for $tarball" >&2
  echo "  pinned: $INTEGRITY" >&2
  echo "  got:    $got" >&2
  exit 1
fi

tar -xzf "$tarball"
mkdir -p "$dest"
cp package/dist/uPlot.iife.min.js "$dest/uPlot.iife.min.js"
cp package/dist/uPlot.min.css "$dest/uPlot.min.css"
cp package/LICENSE "$dest/LICENSE-uPlot"
echo "vendor-uplot: uPlot $VERSION ($INTEGRITY) copied to $dest"
