# Sourced by scripts/test.sh after _venv.sh: the official client, toloka-kit, in a throw-away venv of its own
# (its pins conflict with Airflow's), for tests/testing/test_emulator_toloka_kit.py.
# Built once into $TOLOKA_KIT_VENV (default .venv/toloka-kit, shared by every Airflow version's run) and rebuilt
# only when it is missing or TOLOKA_KIT_PINS change; installed by $VENV's pip (no pip inside, so it takes seconds).
#   TOLOKA_KIT_PYTHON=path   use that interpreter instead (nothing is built)
#   TOLOKA_KIT_REQUIRED=1    a failed build fails the run (CI); otherwise the test is skipped with the reason,
#                            which is exported as TOLOKA_KIT_UNAVAILABLE
# toloka-kit imports pkg_resources, which setuptools 81 dropped (and a venv has no setuptools without pip).
TOLOKA_KIT_PINS=(toloka-kit==1.2.3 "httpx<0.28" "cattrs<23" "setuptools<81")
TOLOKA_KIT_VENV="${TOLOKA_KIT_VENV:-.venv/toloka-kit}"

_toloka_kit_build() {
  local stamp began=$SECONDS log="${TOLOKA_KIT_VENV}.log"
  stamp="$TOLOKA_KIT_VENV/.pins-$(printf '%s\n' "${TOLOKA_KIT_PINS[@]}" | cksum | cut -d' ' -f1)"
  if [ -f "$stamp" ]; then return 0; fi
  echo "Building the toloka-kit venv $TOLOKA_KIT_VENV (${TOLOKA_KIT_PINS[*]}; log: $log)" >&2
  mkdir -p "$(dirname "$TOLOKA_KIT_VENV")"
  rm -rf "$TOLOKA_KIT_VENV"
  if "$VENV/bin/python" -m venv --without-pip "$TOLOKA_KIT_VENV" >"$log" 2>&1 \
    && "$VENV/bin/python" -m pip --python "$TOLOKA_KIT_VENV/bin/python" install --disable-pip-version-check \
      --no-input --progress-bar off --timeout 30 --retries 3 "${TOLOKA_KIT_PINS[@]}" >>"$log" 2>&1 \
    && "$TOLOKA_KIT_VENV/bin/python" -c 'import toloka.client' >>"$log" 2>&1; then
    touch "$stamp"
    echo "  toloka-kit venv built ($((SECONDS - began)) s)" >&2
    return 0
  fi
  tail -n 15 "$log" >&2
  rm -rf "$TOLOKA_KIT_VENV"
  return 1
}

if [ -z "${TOLOKA_KIT_PYTHON:-}" ]; then
  if _toloka_kit_build; then
    export TOLOKA_KIT_PYTHON="$(cd "$TOLOKA_KIT_VENV" && pwd)/bin/python"
  elif [ "${TOLOKA_KIT_REQUIRED:-}" = 1 ]; then
    echo "The toloka-kit venv could not be built and TOLOKA_KIT_REQUIRED=1; log: ${TOLOKA_KIT_VENV}.log" >&2
    exit 1
  else
    export TOLOKA_KIT_UNAVAILABLE="the toloka-kit venv could not be built (no network to PyPI?); see ${TOLOKA_KIT_VENV}.log"
    echo "  $TOLOKA_KIT_UNAVAILABLE; its test will be skipped" >&2
  fi
fi
