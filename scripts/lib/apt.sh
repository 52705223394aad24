# Sourced by the install scripts: apt-get with the retries a fresh CI machine needs. Three things
# fail there that succeed a minute later: a mirror caught mid-sync ("Hash Sum mismatch", 404s for
# packages the stale lists name), a dropped connection, and the dpkg lock held by the machine's
# own start-up jobs. Each is retried; a last failure prints apt's own words on stdout as well as
# stderr, so a CI log that keeps only stdout still says why.

apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT

# apt_run CMD...: apt-get CMD with the lock waited for and downloads retried.
apt_run() {
  DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 "$@" >"$apt_log" 2>&1
}

# apt_install [apt-get install options] PACKAGE...: refreshes the lists, installs; five tries
# over about two minutes.
apt_install() {
  local try
  for try in 1 2 3 4 5; do
    if apt_run update && apt_run install -y "$@"; then return 0; fi
    echo "apt: try $try of 5 failed (apt-get update/install $*):" >&2
    tail -n 20 "$apt_log" | tee /dev/stderr
    [ "$try" -lt 5 ] && sleep $((try * 10))
  done
  echo "apt: could not install $*: see apt-get's messages above" | tee /dev/stderr
  return 100
}
