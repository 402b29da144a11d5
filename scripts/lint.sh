#!/usr/bin/env bash
# Lint, format check and type check (CI runs them before the tests). Creates or reuses .venv like test.sh.
# Usage: scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
echo "== ruff check" >&2
ruff check .
echo "== ruff format --check" >&2
ruff format --check .
echo "== mypy" >&2
mypy
