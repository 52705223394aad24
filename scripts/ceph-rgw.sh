#!/usr/bin/env bash
# A throwaway one-node Ceph cluster with its RADOS Gateway: the real S3-compatible server the
# tests, the benches and the local cluster script store blocks in.
#   scripts/ceph-rgw.sh start          make the cluster (first time) or start what is not running;
#                                      prints the S3 endpoint
#   scripts/ceph-rgw.sh env            prints AWS_ENDPOINT_URL_S3=... lines (as in $DIR/endpoint.env)
#   scripts/ceph-rgw.sh status         says which daemons run
#   scripts/ceph-rgw.sh stop           kills the daemons and removes the state
#   scripts/ceph-rgw.sh stop-gateway   kills radosgw only (fault tests: the object store is down)
#   scripts/ceph-rgw.sh start-gateway  starts radosgw again on the same port
# State lives in AMIFORGE_CEPH_DIR (default ${TMPDIR:-/tmp}/amiforge-ceph). Debian's daemons run
# directly (no systemd): one monitor, one manager, one BlueStore OSD on a sparse file, pools of
# size 1, and radosgw's beast frontend on a free loopback port. Authentication between the
# daemons is off (auth_*_required = none): everything binds to 127.0.0.1 only, and S3 requests
# are still signed and checked by the gateway with the fixed test user's keys below.
set -euo pipefail

cmd=${1:-}
dir=${AMIFORGE_CEPH_DIR:-${TMPDIR:-/tmp}/amiforge-ceph}
conf=$dir/ceph.conf
region=us-east-1
# Test credentials (the gateway's user): fixed so every process and CI run agrees on them.
access_key=AMIFORGETESTACCESSKEY
secret_key=amiforge-test-secret-key-not-for-production
packages=(ceph-mon ceph-mgr ceph-osd radosgw ceph-common)

say() { echo "ceph-rgw: $*" >&2; }
fail() { say "$*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

ensure_packages() {
  local installed missing=() p
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
  for p in "${packages[@]}"; do grep -qx "$p" <<<"$installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}: run scripts/install-test-deps.sh as root (apt-get) first"
  say "installing ${missing[*]} from Debian's packages"
  source "$(dirname "$0")/lib/apt.sh"
  # --no-install-recommends: ceph-mgr would otherwise pull its dashboard and the web stack.
  apt_install --no-install-recommends "${missing[@]}"
}

# running NAME: the daemon NAME (mon.a, mgr.x, osd.0, client.rgw) is alive per its pid file.
# A killed daemon can linger as a zombie until its new parent reaps it: that counts as dead.
running() {
  local pid
  pid=$(cat "$dir/run/$1.pid" 2>/dev/null) || return 1
  alive "$pid"
}

alive() {
  local state
  [ -n "$1" ] || return 1
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

ceph_cli() { ceph --conf "$conf" --connect-timeout 20 "$@"; }

write_conf() {
  local fsid mon_port rgw_port
  fsid=$(uuidgen)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  mkdir -p "$dir"/{run,log,mon.a,mgr.x,osd.0,rgw}
  cat >"$conf" <<EOF
[global]
fsid = $fsid
# msgr2 only: one port for the monitor, nothing on the legacy protocol.
mon_host = [v2:127.0.0.1:$mon_port]
ms_bind_msgr1 = false
public_addr = 127.0.0.1
ms_bind_ipv6 = false
# A daemon that cannot reach the monitor says so in 30 s rather than the default 5 min.
client_mount_timeout = 30
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
mon_cluster_log_file = $dir/log/cluster.log
crash_dir = $dir/crash
# One OSD on one host: replicas of one, placed per OSD rather than per host; no warnings for it.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
# Few placement groups, fixed (the autoscaler would reshuffle them while tests run).
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 500
# Test data: deleting pools is allowed; no scrubbing competing with the tests.
mon_allow_pool_delete = true
osd_scrub_begin_hour = 0
osd_scrub_end_hour = 0
osd_scrub_auto_repair = false

[mon]
mon_data = $dir/mon.\$id
mon_memory_target = 268435456
# A shared CI disk often has less than 30 % free; warn only when it is nearly full.
mon_data_avail_warn = 5

[mgr]
mgr_data = $dir/mgr.\$id
# Only the modules the cluster needs to report PG states; no dashboard, no telemetry.
mgr_initial_modules =

[osd]
osd_data = $dir/osd.\$id
osd_objectstore = bluestore
# BlueStore on a sparse file: data, RocksDB and its WAL share it (no separate db/wal devices).
# Outside the OSD's directory: BlueStore links osd.N/block to it.
bluestore_block_path = $dir/osd.\$id.block
bluestore_block_create = true
bluestore_block_size = 34359738368
bluestore_block_db_create = false
bluestore_block_wal_create = false
# Memory: the OSD sizes its caches to this target; 1 GiB leaves room for the QEMU tests.
osd_memory_target = 1073741824
osd_memory_cache_min = 134217728
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2

[client.rgw]
# radosgw asks for an encrypted monitor session by default, which needs cephx; with auth off the
# session can only be crc-checked.
ms_mon_client_mode = crc
rgw_data = $dir/rgw
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
rgw_thread_pool_size = 64
# Deleted objects' space comes back within minutes, not the default two hours: tests and benches
# write and delete gigabytes, and a full OSD stops every write.
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
rgw_dns_name = 127.0.0.1
EOF
  echo "$rgw_port" >"$dir/rgw_port"
}

make_cluster() {
  local fsid osd_uuid
  write_conf
  fsid=$(awk '$1 == "fsid" { print $3 }' "$conf")
  # The monitor's store from a monmap naming it (mon_host alone would leave it unnamed and it
  # would wait for a quorum that never forms); --mkfs wants a keyring even with auth off.
  monmaptool --create --fsid "$fsid" --addv a "$(awk '$1 == "mon_host" { print $3 }' "$conf")" "$dir/monmap" >>"$dir/log/setup.log"
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-mon --conf "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" >>"$dir/log/setup.log" 2>&1 \
    || { tail -n 20 "$dir/log/setup.log" >&2; fail "ceph-mon --mkfs failed"; }
  start_daemon mon.a
  start_daemon mgr.x
  # The OSD: registered with the monitor first (its id and uuid), then its BlueStore made.
  osd_uuid=$(uuidgen)
  local id
  id=$(ceph_cli osd new "$osd_uuid")
  [ "$id" = 0 ] || fail "ceph osd new returned id '$id', expected 0"
  ceph-osd --conf "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$dir/log/setup.log" 2>&1 \
    || { tail -n 20 "$dir/log/setup.log" >&2; fail "ceph-osd --mkfs failed"; }
  start_daemon osd.0
  touch "$dir/made"
}

start_daemon() {
  running "$1" && return 0
  rm -f "$dir/run/$1.pid"
  case "$1" in
    mon.a) ceph-mon --conf "$conf" -i a ;;
    mgr.x) ceph-mgr --conf "$conf" -i x ;;
    osd.0) ceph-osd --conf "$conf" -i 0 ;;
    client.rgw) radosgw --conf "$conf" -n client.rgw ;;
  esac >>"$dir/log/setup.log" 2>&1 9>&- || { tail -n 20 "$dir/log/setup.log" >&2; fail "could not start $1"; }
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND once a second.
wait_for() {
  local what=$1 seconds=$2 i
  shift 2
  for ((i = 0; i < seconds; i++)); do
    if "$@"; then return 0; fi
    sleep 1
  done
  fail "$what not ready after ${seconds}s; logs in $dir/log"
}

osd_up() { ceph_cli osd dump 2>/dev/null | grep -q '^osd.0 up'; }

# radosgw-admin waits for the OSD without end; a bound turns a dead OSD into an error.
rgw_admin() { timeout 120 radosgw-admin --conf "$conf" "$@"; }

ensure_user() {
  rgw_admin user info --uid amiforge >/dev/null 2>&1 && return 0
  rgw_admin user create --uid amiforge --display-name "amiforge tests" \
    --access-key "$access_key" --secret-key "$secret_key" >>"$dir/log/setup.log" 2>&1 \
    || { tail -n 20 "$dir/log/setup.log" >&2; fail "radosgw-admin user create failed"; }
}

endpoint() { echo "http://127.0.0.1:$(cat "$dir/rgw_port")"; }

write_env() {
  cat >"$dir/endpoint.env.tmp" <<EOF
AWS_ENDPOINT_URL_S3=$(endpoint)
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
AWS_REGION=$region
EOF
  mv "$dir/endpoint.env.tmp" "$dir/endpoint.env"
}

# A signed S3 request with the test user's keys: the proof the gateway serves, not just listens.
s3_works() {
  AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key python3 - "$(endpoint)" "$region" <<'EOF'
import sys, boto3, botocore.config
cfg = botocore.config.Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})
boto3.client("s3", endpoint_url=sys.argv[1], region_name=sys.argv[2], config=cfg).list_buckets()
EOF
} >/dev/null 2>&1

# The gateway answers signed requests; a radosgw that exited (see its log) fails at once.
gateway_serves() {
  # (no pid file yet: the daemon is still starting; a pid file with no process: it exited)
  [ ! -f "$dir/run/client.rgw.pid" ] || running client.rgw || { tail -n 5 "$dir/log/client.rgw.log" >&2; fail "radosgw exited; its log: $dir/log/client.rgw.log"; }
  s3_works
}

start_gateway() {
  start_daemon client.rgw
  wait_for "the gateway (S3 at $(endpoint))" 120 gateway_serves
}

start() {
  ensure_packages
  if [ -f "$dir/made" ]; then
    # Made before: start whatever stopped (a reboot, a fault test), keeping the data.
    start_daemon mon.a
    start_daemon mgr.x
    start_daemon osd.0
  else
    # A make that failed half way: its daemons go with its state, then a clean start.
    stop_all
    rm -rf "$dir"
    make_cluster
  fi
  wait_for "osd.0" 120 osd_up
  # The user first: radosgw-admin also makes the default zone and its pools, which radosgw
  # would otherwise make at the same moment.
  ensure_user
  start_gateway
  write_env
  echo "ceph-rgw: S3 at $(endpoint) (state in $dir)" >&2
  endpoint
}

stop_daemon() {
  local pid i
  pid=$(cat "$dir/run/$1.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop_all() {
  local name
  for name in client.rgw osd.0 mgr.x mon.a; do stop_daemon "$name"; done
}

status() {
  [ -f "$conf" ] || { echo "not made (no $dir)"; return 0; }
  local name
  for name in mon.a mgr.x osd.0 client.rgw; do
    if running "$name"; then echo "$name running (pid $(cat "$dir/run/$name.pid"))"; else echo "$name stopped"; fi
  done
  echo "S3 endpoint $(endpoint)"
}

[ "$(id -u)" -eq 0 ] || [ "$cmd" = status ] || [ "$cmd" = env ] ||
  fail "runs as root (the daemons and apt-get); use sudo, or run as root in CI"

# Two test files starting at once: one makes the cluster, the other waits here, then finds it
# running. (The daemons are started with fd 9 closed: they must not hold the lock.) Reading
# commands take no lock, so they work for any user.
if [ "$cmd" != status ] && [ "$cmd" != env ]; then
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
fi

case "$cmd" in
  start) start ;;
  env)
    [ -f "$dir/endpoint.env" ] || fail "not started: run scripts/ceph-rgw.sh start"
    cat "$dir/endpoint.env"
    ;;
  status) status ;;
  stop-gateway) stop_daemon client.rgw ;;
  start-gateway)
    [ -f "$dir/made" ] || fail "not made: run scripts/ceph-rgw.sh start"
    start_gateway
    ;;
  stop)
    stop_all
    rm -rf "$dir"
    ;;
  *) echo "usage: ceph-rgw.sh start|stop|status|env|stop-gateway|start-gateway" >&2; exit 2 ;;
esac
