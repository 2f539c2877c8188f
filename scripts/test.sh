#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test (see README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec pnpm test
