# Sourced by the scripts: create or reuse .venv and install the package with its test extra (and the optional ones).
# Needs only Python 3.10+ on the machine.
#   AIRFLOW_VERSION=X.Y.Z  install that Airflow release instead of the newest (default venv: .venv-airflow-X.Y.Z),
#                          with the requirements of scripts/constraints/airflow-X.Y.Z.txt when that file exists
#                          (pins of Airflow's dependencies, and the few packages that release needs besides)
#   VENV=dir               the virtual environment to use
#   PYTHON=python3         the interpreter that creates it
AIRFLOW_VERSION="${AIRFLOW_VERSION:-}"
VENV="${VENV:-.venv${AIRFLOW_VERSION:+-airflow-$AIRFLOW_VERSION}}"
PYTHON="${PYTHON:-python3}"
# The newest Airflow's venv also gets the optional extras, so that their code paths (parquet files,
# crowd-kit aggregation) are tested rather than skipped; the lowest release's venv runs only the system tests.
extras="test"
[ -n "$AIRFLOW_VERSION" ] || extras="test,parquet,crowd-kit"
install_args=(-e ".[$extras]")
pins=""
if [ -n "$AIRFLOW_VERSION" ]; then
  install_args+=("apache-airflow==$AIRFLOW_VERSION")
  pins="scripts/constraints/airflow-$AIRFLOW_VERSION.txt"
  if [ -f "$pins" ]; then install_args+=(-r "$pins"); else pins=""; fi
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "Python 3.10+ is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-${AIRFLOW_VERSION:+airflow-$AIRFLOW_VERSION-}$(echo "$extras" | cat - pyproject.toml $pins | cksum | cut -d" " -f1)"

# pip install ARGS into $VENV: the full output goes to the log, a line of progress to stderr every few packages.
_venv_pip_install() {
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 \
    | tee -a "$VENV/install.log" | {
      seen=0 began=$SECONDS
      while IFS= read -r line; do
        case "$line" in
          Collecting*) seen=$((seen + 1)); [ $((seen % 20)) -ne 0 ] || echo "  $seen packages resolved ($((SECONDS - began)) s)" ;;
          "Installing collected packages:"*) echo "  installing packages ($((SECONDS - began)) s)" ;;
          "Successfully installed"*) echo "  done ($((SECONDS - began)) s)" ;;
        esac
      done >&2
    }
  return "${PIPESTATUS[0]}"
}

if [ ! -f "$stamp" ]; then
  echo "Installing airflow-provider-toloka with its extras ($extras)${AIRFLOW_VERSION:+ and Airflow $AIRFLOW_VERSION}" \
    "into $VENV (about a minute the first time; log: $VENV/install.log)" >&2
  : >"$VENV/install.log"
  if ! { _venv_pip_install --upgrade pip && _venv_pip_install "${install_args[@]}"; }; then
    tail -n 40 "$VENV/install.log" >&2
    echo "Installation failed; the full log is $VENV/install.log" >&2
    exit 1
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
