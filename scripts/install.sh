#!/usr/bin/env bash
# Installs dependencies exactly as locked, then the native addons (re2, better-sqlite3).
# Their prebuilt downloads are unreachable here, so they build from source (about a minute each);
# a finished build is kept in a cache keyed by package version and Node ABI and reused next time.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund

cache_root="${LEAKHOUND_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leakhound-native}"
abi=$(node -p 'process.versions.modules + "-" + process.platform + "-" + process.arch')
native() { # package binary-relative-path
  local pkg=$1 rel=$2
  local version
  version=$(node -p "require('./node_modules/$pkg/package.json').version")
  local dir="$cache_root/$pkg-$version-$abi"
  if [ -f "$dir/$(basename "$rel")" ]; then
    mkdir -p "node_modules/$pkg/$(dirname "$rel")"
    cp "$dir/$(basename "$rel")" "node_modules/$pkg/$rel"
    echo "$pkg $version: cached build"
  else
    echo "$pkg $version: building from source"
    local log
    log=$(mktemp)
    if ! (cd "node_modules/$pkg" && npx --no-install node-gyp rebuild --release -j max) >"$log" 2>&1; then
      tail -40 "$log" >&2
      echo "$pkg: native build failed (full log: $log)" >&2
      exit 1
    fi
    rm -f "$log"
    mkdir -p "$dir" && cp "node_modules/$pkg/$rel" "$dir/"
  fi
}
native re2 build/Release/re2.node
native better-sqlite3 build/Release/better_sqlite3.node
# leakhound's own addon: the multi-pattern pass on Hyperscan (native/). Optional: without
# Hyperscan's headers (Debian: libhyperscan-dev) the scanner runs on RE2 alone, slower.
if pkg-config --exists libhs 2>/dev/null; then
  src_hash=$(cat native/binding.gyp native/*.c | sha256sum | cut -c1-16)
  hs_version=$(pkg-config --modversion libhs)
  dir="$cache_root/leakhound-native-$src_hash-hs$hs_version-$abi"
  if [ -f "$dir/leakhound_native.node" ]; then
    mkdir -p native/build/Release && cp "$dir/leakhound_native.node" native/build/Release/
    echo "leakhound native addon (Hyperscan $hs_version): cached build"
  else
    echo "leakhound native addon (Hyperscan $hs_version): building"
    log=$(mktemp)
    if (cd native && npx --no-install node-gyp rebuild --release -j max) >"$log" 2>&1; then
      rm -f "$log"
      mkdir -p "$dir" && cp native/build/Release/leakhound_native.node "$dir/"
    else
      # optional: the scanner runs on RE2 without it (CI requires it through its tests)
      tail -20 "$log" >&2
      echo "leakhound native addon: build failed, scanning will use RE2 only (full log: $log)" >&2
      rm -rf native/build
    fi
  fi
  if [ -f native/build/Release/leakhound_native.node ] && ! node -e "require('./native/build/Release/leakhound_native.node').version()" >/dev/null 2>&1; then
    echo "leakhound native addon: built but does not load (libhs missing at run time?), scanning will use RE2 only" >&2
    rm -rf native/build
  fi
else
  echo "Hyperscan not found (apt-get install libhyperscan-dev): the multi-pattern pass runs on RE2 (a working-tree scan about 1.4x slower)"
fi
chmod u+x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool 2>/dev/null || true
node -e "require('re2'); new (require('better-sqlite3'))(':memory:').close()"
npm run build
# the built-in rules parsed and their Hyperscan database compiled once here, rather than by the first
# scan of every fresh home directory (CI jobs, containers); a failure only means doing it at scan time
node scripts/precompile.mjs || echo "leakhound: rules not precompiled; the first scan will do it" >&2
