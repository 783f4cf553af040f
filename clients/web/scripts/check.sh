#!/usr/bin/env bash
# The web half's checks: type-check the SDK and the demo (JSDoc, strict), check that the SDK's
# committed declarations (sdk/types/) are the ones its JSDoc generates, and print the SDK's size.
# Needs Node 20+ and clients/web/node_modules (scripts/setup check installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
tsc=node_modules/.bin/tsc
if [ ! -x "$tsc" ]; then
  echo "no $PWD/node_modules: run scripts/setup check (or npm ci in clients/web)" >&2
  exit 1
fi

$tsc -p tsconfig.json
echo "type-check: ok (sdk, demo)"

generated="$(mktemp -d)"
trap 'rm -rf "$generated"' EXIT
$tsc -p sdk/tsconfig.json --declarationDir "$generated"
if ! diff -r sdk/types "$generated" >/dev/null; then
  diff -ru sdk/types "$generated" || true
  echo "sdk/types/ is not what the JSDoc generates: run npm run types (in clients/web) and commit it" >&2
  exit 1
fi
echo "declarations: sdk/types/ up to date"

node scripts/size.mjs
