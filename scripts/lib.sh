# Helpers shared by scripts/setup, scripts/serve and scripts/check (sourced, not run).

say() { printf '%s\n' "-- $*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A short hash of files' contents: set-up reruns when one of them changes.
fingerprint() { cat "$@" | sha256sum | cut -c1-12; }

# The machine's Chromium for the browser tests: $CHROMIUM, or one on PATH.
chromium_path() {
  local candidate
  for candidate in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
    [ -n "$candidate" ] && command -v "$candidate" && return 0
  done
  return 1
}

# Put a CPython 3.13 (the Lambda runtime, for sam build) on PATH when there is one: on PATH
# already, or installed by pyenv. pyenv's shim answers `command -v` even when 3.13 is not
# active, so the candidate is run, not just found. Returns 1 when there is none.
find_python313() {
  python3.13 -c '' 2>/dev/null && return 0
  if command -v pyenv >/dev/null; then
    local version
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$' | sort -rV); do
      local candidate
      candidate="$(pyenv root)/versions/$version/bin"
      if [ -x "$candidate/python3.13" ] && "$candidate/python3.13" -c '' 2>/dev/null; then
        export PATH="$candidate:$PATH"
        return 0
      fi
    done
  fi
  return 1
}
