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

# The arm64 check's tools (scripts/arm64-check, docs/arm64.md): qemu's user-mode aarch64
# emulator, and dpkg-deb and gpgv with Debian's archive keys to make a checked arm64 root.
# Prints the Debian packages missing and succeeds when there are any; fails when none is.
arm64_missing() {
  local missing=()
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  command -v dpkg-deb >/dev/null || missing+=(dpkg)
  command -v gpgv >/dev/null || missing+=(gpgv)
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
  [ ${#missing[@]} -gt 0 ] && echo "${missing[*]}"
}

# Install them (root on Debian), with a strip for aarch64 so the layer is built stripped as it is
# deployed; says what is missing and fails when they cannot be installed here.
install_arm64_tools() {
  local missing
  missing="$(arm64_missing)" || missing=""
  command -v aarch64-linux-gnu-strip >/dev/null || command -v llvm-strip >/dev/null \
    || missing="${missing:+$missing }binutils-aarch64-linux-gnu"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing the arm64 check's tools: $missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    say "not installed: $missing (apt-get install them as root): the arm64 check will be skipped"
    return 1
  fi
}
