#!/usr/bin/env bash
# Installs what Simorgh Chat needs on Debian/Ubuntu and is missing: the given apt packages
# (default: everything the test suite uses), the pnpm version pinned in package.json, and the
# workspace dependencies. Safe to run again: it only installs what is missing.
#
#   bash scripts/setup.sh                                         # redis, MariaDB, PostgreSQL, nginx, Chromium, curl, jq
#   bash scripts/setup.sh redis-server mariadb-server postgresql  # only what `pnpm dev` needs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
  packages=(redis-server mariadb-server postgresql nginx chromium curl jq)
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The binary each package provides; /usr/sbin is checked too because it is not on every PATH.
binary_of() {
  case "$1" in
    redis-server) echo redis-server ;;
    mariadb-server) echo mariadbd ;;
    postgresql) echo postgres ;;
    nginx) echo nginx ;;
    chromium) echo chromium ;;
    *) echo "$1" ;;
  esac
}

have_binary() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
  # Debian keeps the PostgreSQL server binaries off PATH, per version.
  local found
  for found in /usr/lib/postgresql/*/bin/"$1"; do [ -x "$found" ] && return 0; done
  return 1
}

# --- Node.js ---------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20.19 or newer is required: install it first (e.g. https://nodejs.org or NodeSource)." >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "Node.js 20.19 or newer is required (found $(node --version))." >&2
  exit 1
fi

# --- System packages -------------------------------------------------------------------
missing=()
for package in "${packages[@]}"; do
  if ! have_binary "$(binary_of "$package")"; then missing+=("$package"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} with apt-get..."
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- pnpm (the version pinned by "packageManager" in package.json) ----------------------
pnpm_version="$(node -p 'require("./package.json").packageManager.replace(/^pnpm@/, "").split("+")[0]')"
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  echo "Installing pnpm $pnpm_version..."
  if [ -w "$(npm prefix -g)/lib" ] || [ "$(id -u)" -eq 0 ]; then
    npm install -g --no-fund --no-audit "pnpm@$pnpm_version"
  else
    sudo npm install -g --no-fund --no-audit "pnpm@$pnpm_version"
  fi
  hash -r
fi

# --- Workspace dependencies ------------------------------------------------------------
pnpm install --frozen-lockfile
