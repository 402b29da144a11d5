#!/usr/bin/env bash
# Run the test suite. Creates (or reuses) .venv and installs the package with its test extra, and the
# official client's own venv (.venv/toloka-kit, see _toloka_kit_venv.sh) for the test that drives it.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_toloka_kit_venv.sh
exec "$VENV/bin/python" -m pytest "$@"
