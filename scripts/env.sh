# shellcheck shell=bash
# aimtrack_venv run|test: create .venv with Python 3.11 if needed and install AimTrack into it,
# pinned by constraints.txt (with the test extras when asked).

aimtrack_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    echo "AimTrack needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

aimtrack_venv() {
    local mode=${1:?aimtrack_venv needs run or test} target=. compile=--compile-bytecode
    if [ "$mode" = test ]; then
        # Python compiles a module when a test first imports it (and scripts/test keeps the
        # .pyc): compiling all of every test tool up front took half a minute more.
        target='.[test]' compile=
    fi
    if [ ! -x .venv/bin/pip ]; then
        # No venv yet, or a broken one (e.g. created while venv support was missing).
        local python
        python=$(aimtrack_python)
        rm -rf .venv
        "$python" -m venv .venv
    fi
    # pip installs uv (pinned), uv installs AimTrack and what constraints.txt pins: on the
    # 2-core machine 9 s where pip alone took 80 s (docs/adr/0012-installing-with-uv.md).
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
    .venv/bin/uv pip install --quiet --python .venv/bin/python ${compile:+"$compile"} \
        -c constraints.txt -e "$target"
}
