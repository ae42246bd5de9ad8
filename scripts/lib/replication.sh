# A primary and a streaming hot standby of its own, for the read-replica tests of scripts/test.
# Sourced; uses say, port_in_use, pg_bindir and $root from scripts/test.
#
# start_replication: creates (once) a primary cluster under target/strata-replication with
# initdb, clones it with `pg_basebackup -R` into a standby, starts both on free ports from
# 57432, and sets STRATA_TEST_REPLICATION_URL (the primary), STRATA_TEST_STANDBY_URL, and
# STRATA_TEST_STANDBY_STOP / STRATA_TEST_STANDBY_START (shell commands that stop and start it).
# stop_replication stops both (the EXIT trap calls it).

replication_dir="$root/target/strata-replication"
replication_started=0
replication_bindir=""
replication_user=""

replication_run() {
    if [[ -n $replication_user ]]; then
        runuser -u "$replication_user" -- "$@"
    else
        "$@"
    fi
}

stop_replication() {
    if ((replication_started)); then
        replication_started=0
        local node
        for node in standby primary; do
            replication_run "$replication_bindir/pg_ctl" -D "$replication_dir/$node" -m immediate \
                -w stop >/dev/null 2>&1 || true
        done
    fi
}

replication_port() {
    local port=$1
    while port_in_use "$port"; do
        port=$((port + 1))
        ((port < 57532)) || return 1
    done
    echo "$port"
}

start_replication() {
    replication_bindir="$(pg_bindir)" || { say "no PostgreSQL server binaries for the standby"; return 1; }
    [[ -x $replication_bindir/pg_basebackup ]] || { say "pg_basebackup is missing"; return 1; }
    rm -rf "$replication_dir"
    mkdir -p "$replication_dir/socket"
    if ((EUID == 0)); then
        replication_user=postgres
        id -u "$replication_user" >/dev/null 2>&1 || replication_user=nobody
        chown -R "$replication_user" "$replication_dir"
    fi
    local primary standby common
    primary="$(replication_port 57432)" || { say "no free port for the primary"; return 1; }
    # initdb's trust configuration admits replication connections from 127.0.0.1.
    replication_run "$replication_bindir/initdb" -D "$replication_dir/primary" -U postgres -A trust \
        -E UTF8 --locale=C --no-sync >"$replication_dir/initdb.log" 2>&1 \
        || { cat "$replication_dir/initdb.log" >&2; return 1; }
    common="-k '$replication_dir/socket' -c listen_addresses=127.0.0.1 -c max_connections=100 \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=replica"
    replication_started=1
    replication_run "$replication_bindir/pg_ctl" -D "$replication_dir/primary" \
        -l "$replication_dir/primary.log" -w -t 60 -o "-p $primary $common" start >/dev/null \
        || { tail -n 20 "$replication_dir/primary.log" >&2; return 1; }
    replication_run "$replication_bindir/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres \
        -D "$replication_dir/standby" -R -X stream --no-sync >"$replication_dir/basebackup.log" 2>&1 \
        || { cat "$replication_dir/basebackup.log" >&2; return 1; }
    standby="$(replication_port $((primary + 1)))" || { say "no free port for the standby"; return 1; }
    replication_run "$replication_bindir/pg_ctl" -D "$replication_dir/standby" \
        -l "$replication_dir/standby.log" -w -t 60 -o "-p $standby $common -c hot_standby=on" \
        start >/dev/null || { tail -n 20 "$replication_dir/standby.log" >&2; return 1; }
    # How a test stops and restarts the standby (crates/strata/tests/read_replica_stopped.rs).
    local ctl=("$replication_bindir/pg_ctl" -D "$replication_dir/standby" -w -t 60)
    [[ -z $replication_user ]] || ctl=(runuser -u "$replication_user" -- "${ctl[@]}")
    STRATA_TEST_STANDBY_STOP="${ctl[*]} -m fast stop"
    STRATA_TEST_STANDBY_START="${ctl[*]} -l $replication_dir/standby.log -o '-p $standby $common -c hot_standby=on' start"
    STRATA_TEST_REPLICATION_URL="postgres://postgres@127.0.0.1:$primary/postgres"
    STRATA_TEST_STANDBY_URL="postgres://postgres@127.0.0.1:$standby/postgres"
    say "a primary on port $primary with a streaming standby on port $standby (${replication_dir#"$root"/})"
}
