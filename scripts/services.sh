# shellcheck shell=bash
# PostgreSQL and Redis servers for the test suite, sourced by scripts/test.sh.
#
# services_setup exports HOSTVIEW_TEST_DATABASE_URL and HOSTVIEW_TEST_REDIS_URL and sets an EXIT
# trap that stops every server it started and deletes its files. For each service it takes the
# first of these that applies:
#   1. the URL already in the environment, unchanged;
#   2. the shared server on its standard port (PostgreSQL 127.0.0.1:5432 as user postgres without
#      a password, Redis 127.0.0.1:6379), unless HOSTVIEW_TEST_THROWAWAY=1;
#   3. a throwaway server on a free port of 127.0.0.1, installed with apt-get when missing.
# Errors exit the sourcing shell, because the tests cannot run without their services.
#
# NOTE: a throwaway server outlives the tests when this shell is killed with SIGKILL, because no
# trap runs then. Its files stay in a hostview-test-* folder under ${TMPDIR:-/tmp}.

readonly SERVICES_SHARED_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres
readonly SERVICES_SHARED_REDIS_URL=redis://127.0.0.1:6379/

# Maximum number of ports tried when a throwaway server fails to start, in case another process
# takes the chosen free port before the server binds it.
readonly SERVICES_START_ATTEMPTS=3

# Seconds to wait for a throwaway server to accept connections.
readonly SERVICES_START_TIMEOUT_SECONDS=60

services_pg_bindir=""
services_pg_dir=""
services_redis_dir=""
services_redis_pid=""
services_server_user=""
services_apt_updated=0

services_log() {
    printf 'test services: %s\n' "$*" >&2
}

services_fail() {
    printf 'test services: error: %s\n' "$*" >&2
    exit 1
}

# Print a TCP port on 127.0.0.1 that is free at the time of the call.
services_free_port() {
    local port

    if port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null); then
        echo "$port"
        return
    fi

    # Without python3, try random ports until a connection to one is refused.
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    services_fail "found no free TCP port on 127.0.0.1 in 100 random tries between 20000 and 52767"
}

# Install Debian packages, which needs root and apt-get.
services_apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        services_fail "$* not installed, and installing it needs root and apt-get; install it, or set HOSTVIEW_TEST_DATABASE_URL and HOSTVIEW_TEST_REDIS_URL to running servers"
    fi

    services_log "installing $* with apt-get"
    if [ "$services_apt_updated" -eq 0 ]; then
        apt-get update -q </dev/null >&2
        services_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >&2
}

# Replace the password in a URL such as postgres://user:secret@host/ with ***.
services_redact_url() {
    printf '%s\n' "$1" | sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#'
}

# Return 0 when the shared PostgreSQL accepts user postgres without a password.
services_shared_postgres_accepts() {
    command -v psql >/dev/null 2>&1 || return 1

    local result
    result=$(PGCONNECT_TIMEOUT=3 psql "$SERVICES_SHARED_POSTGRES_URL" -w -X -A -t -c 'select 1' </dev/null 2>/dev/null) || return 1
    [ "$result" = 1 ]
}

# Return 0 when a Redis server on 127.0.0.1:PORT replies PONG to PING.
services_redis_ping() {
    local port=$1

    # The subshell keeps a failed connection from ending the caller, and closes descriptor 3.
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf 'PING\r\n' >&3
        read -r -t 2 reply <&3
        [ "$reply" = $'+PONG\r' ]
    ) 2>/dev/null
}

# Print the bin folder of the newest PostgreSQL server found, or return 1.
services_find_postgres_bindir() {
    local pg_ctl_path

    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return
    fi

    # Debian keeps the server programs out of PATH, in one folder per major version.
    pg_ctl_path=$(printf '%s\n' /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)
    if [ -x "$pg_ctl_path" ] && [ -x "${pg_ctl_path%/pg_ctl}/initdb" ]; then
        dirname "$pg_ctl_path"
        return
    fi
    return 1
}

# Set services_server_user to the OS user that runs the throwaway PostgreSQL, because initdb and
# postgres refuse to run as root. Empty means the current user.
services_pick_server_user() {
    if [ "$(id -u)" -ne 0 ]; then
        services_server_user=""
        return
    fi

    command -v runuser >/dev/null 2>&1 ||
        services_fail "runuser (from util-linux) not found on PATH; it is needed to run PostgreSQL as a user other than root"
    if id postgres >/dev/null 2>&1; then
        services_server_user=postgres
    else
        if ! id hostview-test >/dev/null 2>&1; then
            services_log "creating system user hostview-test to run the throwaway PostgreSQL"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin hostview-test
        fi
        services_server_user=hostview-test
    fi
}

# Run a command as services_server_user, from a folder that user can read.
services_run_as_server_user() {
    if [ -n "$services_server_user" ]; then
        (cd "$services_pg_dir" && runuser -u "$services_server_user" -- "$@")
    else
        (cd "$services_pg_dir" && "$@")
    fi
}

services_start_postgres() {
    local port

    if ! services_pg_bindir=$(services_find_postgres_bindir); then
        services_apt_install postgresql
        services_pg_bindir=$(services_find_postgres_bindir) ||
            services_fail "PostgreSQL server programs (initdb, pg_ctl) not found after installing postgresql"
    fi
    services_pick_server_user

    services_pg_dir=$(mktemp -d -t hostview-test-postgres.XXXXXX)
    if [ -n "$services_server_user" ]; then
        chown "$services_server_user:" "$services_pg_dir"
    fi

    if ! services_run_as_server_user "$services_pg_bindir/initdb" --pgdata="$services_pg_dir/data" \
        --username=postgres --auth=trust --encoding=UTF8 --no-locale --no-sync \
        >"$services_pg_dir/initdb.log" 2>&1; then
        cat "$services_pg_dir/initdb.log" >&2
        services_fail "initdb failed in $services_pg_dir/data (output above)"
    fi

    # Durability settings are off because the cluster is deleted when the tests end.
    for _ in $(seq 1 "$SERVICES_START_ATTEMPTS"); do
        port=$(services_free_port)
        if services_run_as_server_user "$services_pg_bindir/pg_ctl" --pgdata="$services_pg_dir/data" \
            --log="$services_pg_dir/postgres.log" --wait --timeout="$SERVICES_START_TIMEOUT_SECONDS" \
            -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$services_pg_dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            export HOSTVIEW_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
            return
        fi
    done

    tail -n 20 "$services_pg_dir/postgres.log" >&2 || true
    services_fail "throwaway PostgreSQL failed to start in $SERVICES_START_ATTEMPTS attempts (log above)"
}

services_start_redis() {
    local port

    if ! command -v redis-server >/dev/null 2>&1; then
        services_apt_install redis-server
    fi

    services_redis_dir=$(mktemp -d -t hostview-test-redis.XXXXXX)

    for _ in $(seq 1 "$SERVICES_START_ATTEMPTS"); do
        port=$(services_free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
            --dir "$services_redis_dir" --logfile "$services_redis_dir/redis.log" </dev/null >/dev/null 2>&1 &
        services_redis_pid=$!

        # Poll every 0.1 s until the server replies or exits.
        for _ in $(seq 1 $((SERVICES_START_TIMEOUT_SECONDS * 10))); do
            if services_redis_ping "$port"; then
                export HOSTVIEW_TEST_REDIS_URL="redis://127.0.0.1:$port/"
                return
            fi
            kill -0 "$services_redis_pid" 2>/dev/null || break
            sleep 0.1
        done

        kill "$services_redis_pid" 2>/dev/null || true
        wait "$services_redis_pid" 2>/dev/null || true
        services_redis_pid=""
    done

    tail -n 20 "$services_redis_dir/redis.log" >&2 || true
    services_fail "throwaway Redis failed to start in $SERVICES_START_ATTEMPTS attempts (log above)"
}

# Stop the throwaway servers and delete their folders. Shared servers are never touched.
services_stop_all() {
    if [ -n "$services_redis_pid" ]; then
        kill "$services_redis_pid" 2>/dev/null || true
        wait "$services_redis_pid" 2>/dev/null || true
        services_redis_pid=""
    fi
    if [ -n "$services_redis_dir" ]; then
        rm -rf "$services_redis_dir"
        services_redis_dir=""
    fi

    if [ -n "$services_pg_dir" ]; then
        if [ -f "$services_pg_dir/data/postmaster.pid" ]; then
            services_run_as_server_user "$services_pg_bindir/pg_ctl" --pgdata="$services_pg_dir/data" \
                --mode=immediate --wait stop >/dev/null 2>&1 || true
        fi
        rm -rf "$services_pg_dir"
        services_pg_dir=""
    fi
}

services_setup() {
    local postgres_source redis_source
    local force_throwaway=${HOSTVIEW_TEST_THROWAWAY:-0}

    trap services_stop_all EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    if [ -n "${HOSTVIEW_TEST_DATABASE_URL:-}" ]; then
        postgres_source="from HOSTVIEW_TEST_DATABASE_URL"
    elif [ "$force_throwaway" != 1 ] && services_shared_postgres_accepts; then
        export HOSTVIEW_TEST_DATABASE_URL=$SERVICES_SHARED_POSTGRES_URL
        postgres_source=shared
    else
        services_start_postgres
        postgres_source=throwaway
    fi

    if [ -n "${HOSTVIEW_TEST_REDIS_URL:-}" ]; then
        redis_source="from HOSTVIEW_TEST_REDIS_URL"
    elif [ "$force_throwaway" != 1 ] && services_redis_ping 6379; then
        export HOSTVIEW_TEST_REDIS_URL=$SERVICES_SHARED_REDIS_URL
        redis_source=shared
    elif ! command -v redis-server >/dev/null 2>&1 && { [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; }; then
        # No test uses Redis until the queue exists, so a machine without it can still test.
        redis_source="not available: redis-server is not installed and cannot be installed here"
        export HOSTVIEW_TEST_REDIS_URL=""
    else
        services_start_redis
        redis_source=throwaway
    fi

    services_log "PostgreSQL ($postgres_source) $(services_redact_url "$HOSTVIEW_TEST_DATABASE_URL"), Redis ($redis_source) $(services_redact_url "$HOSTVIEW_TEST_REDIS_URL")"
}
