#!/usr/bin/env bash
# Make sure PostgreSQL and Redis are reachable for the tests: start them, or
# install and start them, when they are not; and that Chromium, which the page's
# end-to-end tests drive, is installed. Fast and silent apart from one line per
# service when all are already there.
#
# Overrides: PGHOST, PGPORT, PGDATABASE, REDIS_HOST, REDIS_PORT, CHROMIUM
# (default /usr/bin/chromium), SERVICE_WAIT_SECONDS (how long to wait for a
# started server, default 30).
set -euo pipefail

PG_HOST="${PGHOST:-127.0.0.1}"
PG_PORT="${PGPORT:-5432}"
PG_DATABASE="${PGDATABASE:-test}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_SECONDS="${SERVICE_WAIT_SECONDS:-30}"
HBA_MARKER="# added by scripts/ensure_services.sh: passwordless local TCP for tests"

apt_updated=false

die() {
  echo "ensure_services: ERROR: $*" >&2
  exit 1
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# Run a noisy command, showing its output only if it fails.
quietly() {
  local output
  if ! output=$("$@" 2>&1); then
    printf '%s\n' "$output" >&2
    die "command failed: $*"
  fi
}

tcp_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

is_local() {
  [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]
}

postgres_up() {
  if have pg_isready; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

redis_up() {
  if have redis-cli; then
    [[ "$(timeout 2 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
  else
    tcp_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

# Wait until "$2..." succeeds or WAIT_SECONDS pass; $1 names the service.
wait_until() {
  local name="$1" deadline=$((SECONDS + WAIT_SECONDS))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || die "$name is still unreachable after ${WAIT_SECONDS}s; see its log under /var/log."
    sleep 0.5
  done
}

install_packages() {
  if [[ $EUID -ne 0 ]] || ! have apt-get; then
    die "$* is not installed and installing it needs root and apt-get; install it or start the server yourself."
  fi
  if [[ "$apt_updated" == false ]]; then
    quietly apt-get update
    apt_updated=true
  fi
  quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# Prepend trust rules so user postgres connects over 127.0.0.1 without a password.
trust_local_tcp() {
  local hba="$1"
  grep -qF "$HBA_MARKER" "$hba" && return 0
  sed -i "1i $HBA_MARKER\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust" "$hba"
}

ensure_database() {
  local exists
  exists=$(psql -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")
  [[ "$exists" == "1" ]] || quietly createdb -w -h "$PG_HOST" -p "$PG_PORT" -U postgres "$PG_DATABASE"
}

ensure_postgres() {
  if postgres_up; then
    echo "postgres: already up at $PG_HOST:$PG_PORT"
    return 0
  fi
  is_local "$PG_HOST" || die "postgres at $PG_HOST:$PG_PORT is unreachable and not local; start it there."

  local actions=() version
  if ! have pg_ctlcluster || [[ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]]; then
    install_packages postgresql
    actions+=("installed postgresql")
  fi
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if [[ ! -f "/etc/postgresql/$version/main/postgresql.conf" ]]; then
    quietly pg_createcluster --port "$PG_PORT" "$version" main
    actions+=("created cluster $version/main")
  fi
  trust_local_tcp "/etc/postgresql/$version/main/pg_hba.conf"
  if pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    quietly pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    actions+=("reloaded cluster $version/main")
  else
    quietly pg_ctlcluster --skip-systemctl-redirect "$version" main start
    actions+=("started cluster $version/main")
  fi
  wait_until "postgres at $PG_HOST:$PG_PORT" postgres_up
  ensure_database
  local summary
  summary=$(printf '%s, ' "${actions[@]}")
  echo "postgres: ${summary}database '$PG_DATABASE' ready at $PG_HOST:$PG_PORT"
}

ensure_redis() {
  if redis_up; then
    echo "redis: already up at $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  is_local "$REDIS_HOST" || die "redis at $REDIS_HOST:$REDIS_PORT is unreachable and not local; start it there."

  local actions=""
  if ! have redis-server; then
    install_packages redis-server
    actions="installed redis-server, "
  fi
  # The package's own service may have started it already.
  if ! redis_up; then
    mkdir -p /var/lib/redis /var/log/redis
    quietly redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
      --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    actions+="started redis-server, "
  fi
  wait_until "redis at $REDIS_HOST:$REDIS_PORT" redis_up
  echo "redis: ${actions}up at $REDIS_HOST:$REDIS_PORT"
}

# Debian's chromium: Playwright drives it and never downloads a browser of its own.
ensure_chromium() {
  local chromium="${CHROMIUM:-/usr/bin/chromium}"
  if [[ -x "$chromium" ]]; then
    echo "chromium: already installed at $chromium"
    return 0
  fi
  install_packages chromium
  [[ -x "$chromium" ]] || die "installed chromium, but $chromium is still missing; set CHROMIUM to its path."
  echo "chromium: installed at $chromium"
}

ensure_postgres
ensure_redis
ensure_chromium
