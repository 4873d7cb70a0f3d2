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
    local mode=${1:?aimtrack_venv needs run or test} target=. compile=--compile
    if [ "$mode" = test ]; then
        # Python compiles a module when a test first imports it (and scripts/test keeps the
        # .pyc): compiling all of every test tool up front took half of a fresh install's 80 s.
        target='.[test]' compile=--no-compile
    fi
    if [ ! -x .venv/bin/pip ]; then
        # No venv yet, or a broken one (e.g. created while venv support was missing).
        local python
        python=$(aimtrack_python)
        rm -rf .venv
        "$python" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$compile" \
        -c constraints.txt -e "$target"
}
