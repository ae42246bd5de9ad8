# PgBouncer in transaction pooling mode in front of the test server, for scripts/test.
# Sourced; uses say, port_in_use and $root from scripts/test.
#
# start_pgbouncer URL: starts PgBouncer on a free port from 56432 in front of the server of URL
# (a postgres://user@host:port/db URL), with its files in target/strata-pgbouncer, and sets
# STRATA_TEST_PGBOUNCER_URL to it. stop_pgbouncer stops it (the EXIT trap calls it).

pgbouncer_dir="$root/target/strata-pgbouncer"
# Server connections per database and user (the tests' bound on backends behind the pooler).
export STRATA_TEST_POOLER_POOL_SIZE="${STRATA_TEST_POOLER_POOL_SIZE:-8}"
pgbouncer_started=0

pgbouncer_binary() {
    command -v pgbouncer 2>/dev/null || { [[ -x /usr/sbin/pgbouncer ]] && echo /usr/sbin/pgbouncer; }
}

stop_pgbouncer() {
    if ((pgbouncer_started)) && [[ -f $pgbouncer_dir/pgbouncer.pid ]]; then
        pgbouncer_started=0
        kill "$(<"$pgbouncer_dir/pgbouncer.pid")" 2>/dev/null || true
    fi
}

start_pgbouncer() {
    local url="$1" binary user host port listen
    binary="$(pgbouncer_binary)" || {
        say "PgBouncer is not installed (Debian: apt-get install pgbouncer); the pooler tests need it"
        return 1
    }
    # postgres://user[:password]@host:port/db?…
    user="$(sed -E 's#^[a-z]+://([^:@/]*).*#\1#' <<<"$url")"
    host="$(sed -E 's#^[a-z]+://([^@/]*@)?([^:/?]*).*#\2#' <<<"$url")"
    port="$(sed -nE 's#^[a-z]+://([^@/]*@)?[^:/?]*:([0-9]+).*#\2#p' <<<"$url")"
    port="${port:-5432}"
    listen=56432
    while port_in_use "$listen"; do
        listen=$((listen + 1))
        ((listen < 56532)) || { say "no free port in 56432-56531 for PgBouncer"; return 1; }
    done
    rm -rf "$pgbouncer_dir"
    mkdir -p "$pgbouncer_dir"
    printf '"%s" ""\n' "$user" >"$pgbouncer_dir/userlist.txt"
    cat >"$pgbouncer_dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $pgbouncer_dir/userlist.txt
pool_mode = transaction
default_pool_size = $STRATA_TEST_POOLER_POOL_SIZE
max_client_conn = 1000
; Fail fast and retry soon when a database refuses logins (the tests take one away).
server_login_retry = 1
query_wait_timeout = 5
logfile = $pgbouncer_dir/pgbouncer.log
pidfile = $pgbouncer_dir/pgbouncer.pid
INI
    # PgBouncer refuses to run as root.
    local run=()
    if ((EUID == 0)); then
        local owner=postgres
        id -u "$owner" >/dev/null 2>&1 || owner=nobody
        chown -R "$owner" "$pgbouncer_dir"
        run=(runuser -u "$owner" --)
    fi
    "${run[@]}" "$binary" -d -q "$pgbouncer_dir/pgbouncer.ini" \
        || { tail -n 20 "$pgbouncer_dir/pgbouncer.log" >&2 2>/dev/null; return 1; }
    pgbouncer_started=1
    local tries=0
    until port_in_use "$listen"; do
        ((++tries < 40)) || { say "PgBouncer does not listen on port $listen"; return 1; }
        sleep 0.25
    done
    STRATA_TEST_PGBOUNCER_URL="postgres://$user@127.0.0.1:$listen/postgres"
    say "PgBouncer (transaction pooling) on port $listen in front of $host:$port"
}
