#!/usr/bin/env bash
# Installs what is missing, then starts Simorgh Chat for development (see README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh redis-server mariadb-server postgresql
exec pnpm dev
