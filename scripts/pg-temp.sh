# shellcheck shell=bash
# Source this file, then call pg_temp_start: it starts a throwaway PostgreSQL cluster on
# 127.0.0.1 (a free port, trust auth, data in a temp dir), exports
# AIMTRACK_TEST_DATABASE_URL, and stops and removes the cluster when the shell exits.
# Returns 1 when no PostgreSQL server binaries are installed.

pg_temp_bindir() {
    local found
    if command -v pg_ctl >/dev/null 2>&1; then
        found=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    else
        found=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    [ -n "$found" ] && [ -x "$found/initdb" ] && [ -x "$found/pg_ctl" ] && echo "$found"
}

pg_temp_start() {
    local bindir port
    bindir=$(pg_temp_bindir) || return 1
    PG_TEMP_DIR=$(mktemp -d /tmp/aimtrack-pg.XXXXXX)
    PG_TEMP_AS=()
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root; Debian's package creates the postgres user.
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$PG_TEMP_DIR"
        PG_TEMP_AS=(runuser -u postgres --)
    fi
    PG_TEMP_BINDIR=$bindir
    "${PG_TEMP_AS[@]}" "$bindir/initdb" -D "$PG_TEMP_DIR/data" -U aimtrack --auth=trust \
        -E UTF8 --locale=C.UTF-8 >"$PG_TEMP_DIR/initdb.log" 2>&1 || {
        cat "$PG_TEMP_DIR/initdb.log" >&2
        return 1
    }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${PG_TEMP_AS[@]}" "$bindir/pg_ctl" -D "$PG_TEMP_DIR/data" -l "$PG_TEMP_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEMP_DIR -c fsync=off" start >/dev/null || {
        cat "$PG_TEMP_DIR/server.log" >&2
        return 1
    }
    export AIMTRACK_TEST_DATABASE_URL="postgresql+asyncpg://aimtrack@127.0.0.1:$port/postgres"
    trap pg_temp_stop EXIT
    echo "started a throwaway PostgreSQL on 127.0.0.1:$port ($("$bindir/postgres" --version))"
}

pg_temp_stop() {
    [ -n "${PG_TEMP_DIR:-}" ] || return 0
    "${PG_TEMP_AS[@]}" "$PG_TEMP_BINDIR/pg_ctl" -D "$PG_TEMP_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEMP_DIR"
    PG_TEMP_DIR=
}
