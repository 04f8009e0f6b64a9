#!/usr/bin/env bash
# Creates, once, the virtualenv that the Python helper's tests, the Python
# example service and its end-to-end test use (default .cache/python-venv),
# from the exact pins in python/requirements.txt. Prints the venv's python.
# Fails loudly when a package does not install: those tests must not pass without it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${MLWATCH_PYTHON_VENV:-$PWD/.cache/python-venv}
mkdir -p "$(dirname "$venv")"
# One installer at a time: several test files may ask at once.
exec 9>"$venv.lock"
flock 9

want=$(find python/requirements.txt python/semconv-standin -name "*.py" -o -name "requirements.txt" | sort | xargs cat | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.mlwatch-requirements" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi

rm -rf "$venv"
python3 -m venv "$venv" >&2
pip=("$venv/bin/python" -m pip --disable-pip-version-check --retries 0 -q)
"${pip[@]}" install --no-deps -r python/requirements.txt >&2
# opentelemetry-sdk 1.45.0 needs opentelemetry-semantic-conventions==0.66b0. Use the
# real package where the index has it; else say so and install the stand-in.
if ! "${pip[@]}" install --no-deps opentelemetry-semantic-conventions==0.66b0 >/dev/null 2>&1; then
  echo "python-venv: opentelemetry-semantic-conventions==0.66b0 is not on this package index;" \
    "installing mlwatch's stand-in (python/semconv-standin)" >&2
  wheel=$("$venv/bin/python" python/semconv-standin/build_wheel.py "$venv/standin-wheel")
  "${pip[@]}" install --no-deps "$wheel" >&2
fi
"${pip[@]}" check >&2
echo "$want" >"$venv/.mlwatch-requirements"
echo "$venv/bin/python"
