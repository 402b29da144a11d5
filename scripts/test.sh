#!/usr/bin/env bash
# Run the test suite. Creates (or reuses) .venv and installs the package with its test extra.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
exec "$VENV/bin/python" -m pytest "$@"
