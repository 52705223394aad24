#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benches and the local cluster script:
#   scripts/postgres.sh start DIR   initdb into DIR (if empty), start on a free loopback port,
#                                   print the connection URL (also in DIR/url)
#   scripts/postgres.sh stop DIR    stop it and remove DIR
#   scripts/postgres.sh pause DIR   stop the server abruptly, keeping DIR (fault tests)
#   scripts/postgres.sh resume DIR  start it again on the same port
# Debian's PostgreSQL binaries are used directly (no system service). initdb refuses to run as
# root, so as root the cluster belongs to the `postgres` user. Durability is traded for speed
# (fsync off): these clusters hold test data only.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
  source "$(dirname "$0")/lib/apt.sh"
  apt_install --no-install-recommends postgresql
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ -f "$dir/url" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      cat "$dir/url"; exit 0
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -U amiforge --auth=trust --no-sync -E UTF8 >/dev/null
    fi
    port=$(cat "$dir/port" 2>/dev/null || python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Sockets in DIR (not /var/run/postgresql, which needs the system service's directory).
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    echo "$port" > "$dir/port"
    url="postgres://amiforge@127.0.0.1:$port/postgres"
    echo "$url" > "$dir/url"
    echo "$url"
    ;;
  pause)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  resume)
    port=$(cat "$dir/port")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres.sh start|stop|pause|resume DIR" >&2; exit 2 ;;
esac
