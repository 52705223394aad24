#!/usr/bin/env bash
# A local amiforge cluster for trying it: one PostgreSQL, one S3-compatible object store (Ceph's
# RADOS Gateway, scripts/ceph-rgw.sh) and three `amiforge serve` nodes on three ports, sharing
# both and one KMS root key.
#   scripts/cluster.sh start [DIR]   start everything (idempotent), print the nodes' endpoints
#   scripts/cluster.sh status [DIR]  what runs, and each node's /_amiforge/health
#   scripts/cluster.sh stop [DIR]    stop the nodes, the database and the gateway; remove DIR
# DIR defaults to ${TMPDIR:-/tmp}/amiforge-cluster. AMIFORGE_CLUSTER_NODES (default 3) and
# AMIFORGE_CLUSTER_PORT (the first node's port, default 4566) change the shape; extra arguments
# after DIR go to every `amiforge serve` (e.g. --hypervisor qemu).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cmd=${1:-}
dir=${2:-${TMPDIR:-/tmp}/amiforge-cluster}
shift $(( $# > 2 ? 2 : $# ))
nodes=${AMIFORGE_CLUSTER_NODES:-3}
first_port=${AMIFORGE_CLUSTER_PORT:-4566}
export AMIFORGE_CEPH_DIR="$dir/ceph"

node_running() { [ -f "$dir/node-$1.pid" ] && kill -0 "$(cat "$dir/node-$1.pid")" 2>/dev/null; }

start() {
  mkdir -p "$dir"
  local db_url
  db_url=$(bash "$here/postgres.sh" start "$dir/postgres")
  bash "$here/ceph-rgw.sh" start >&2
  # shellcheck disable=SC1091
  set -a; source "$AMIFORGE_CEPH_DIR/endpoint.env"; set +a
  local bucket=amiforge-cluster
  python3 - "$bucket" <<'PY'
import os, sys, boto3
s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL_S3'])
try:
    s3.create_bucket(Bucket=sys.argv[1])
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
PY
  [ -f "$dir/kms-root.key" ] || (umask 077; head -c 32 /dev/urandom > "$dir/kms-root.key")
  for i in $(seq 1 "$nodes"); do
    local port=$(( first_port + i - 1 ))
    if node_running "$i"; then echo "node-$i  http://127.0.0.1:$port  (already running)"; continue; fi
    mkdir -p "$dir/node-$i"
    # Each node: its own data directory (instances' runtime files), its own loopback block for
    # instance addresses, the shared database, bucket and root key.
    nohup "$root/bin/amiforge" serve --port "$port" --data-dir "$dir/node-$i" \
      --database "$db_url" --blocks "s3://$bucket/blocks" \
      --kms-root-key-file "$dir/kms-root.key" --node-id "node-$i" \
      --public-address-range "127.10$i.0.0/16" "$@" >"$dir/node-$i.log" 2>&1 &
    echo $! > "$dir/node-$i.pid"
  done
  for i in $(seq 1 "$nodes"); do
    local port=$(( first_port + i - 1 ))
    for _ in $(seq 1 120); do
      curl -fs "http://127.0.0.1:$port/_amiforge/health" >/dev/null 2>&1 && break
      node_running "$i" || { echo "node-$i exited; its log, $dir/node-$i.log, ends:" >&2; tail -20 "$dir/node-$i.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "node-$i  http://127.0.0.1:$port"
  done
  echo "database  $db_url"
  echo "blocks    s3://$bucket/blocks at $AWS_ENDPOINT_URL_S3"
}

status() {
  for i in $(seq 1 "$nodes"); do
    local port=$(( first_port + i - 1 ))
    if node_running "$i"; then
      echo "node-$i  http://127.0.0.1:$port  $(curl -s "http://127.0.0.1:$port/_amiforge/health" || echo unreachable)"
    else
      echo "node-$i  stopped"
    fi
  done
  bash "$here/ceph-rgw.sh" status || true
}

stop() {
  for i in $(seq 1 "$nodes"); do
    if node_running "$i"; then kill "$(cat "$dir/node-$i.pid")"; fi
  done
  for i in $(seq 1 "$nodes"); do
    for _ in $(seq 1 40); do node_running "$i" || break; sleep 0.25; done
    rm -f "$dir/node-$i.pid"
  done
  bash "$here/postgres.sh" stop "$dir/postgres"
  bash "$here/ceph-rgw.sh" stop || true
  rm -rf "$dir"
}

case "$cmd" in
  start) start "$@" ;;
  status) status ;;
  stop) stop ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
