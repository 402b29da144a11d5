#!/usr/bin/env bash
# Run the benchmarks with the project's .venv: benchmarks/bench.sh [--quick] [options of python -m benchmarks]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
exec "$VENV/bin/python" -m benchmarks "$@"
