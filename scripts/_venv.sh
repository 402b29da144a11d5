# Sourced by the scripts: create or reuse .venv and install the package with its test extra.
# Needs only Python 3.10+ on the machine.
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "Python 3.10+ is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
  echo "Installing airflow-provider-toloka with its test extra into $VENV (log: $VENV/install.log)" >&2
  if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
         && "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[test]"; } >"$VENV/install.log" 2>&1; then
    tail -n 40 "$VENV/install.log" >&2
    echo "Installation failed; the full log is $VENV/install.log" >&2
    exit 1
  fi
  touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
