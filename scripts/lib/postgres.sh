# Makes sure a Postgres server is there for the tests, and exports
# MODELRUN_TEST_DATABASE_URL: a URL whose user may create databases (each
# test creates and drops its own).
#
# 1. MODELRUN_TEST_DATABASE_URL or DATABASE_URL, when set, is used as is.
# 2. Otherwise the local server on 127.0.0.1:5432: started if it is down,
#    installed from Debian's packages (needs root or sudo) if it is missing.

pg_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_ready() {
  pg_isready -q -d "$1" 2>/dev/null || psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

ensure_postgres() {
  local url="${MODELRUN_TEST_DATABASE_URL:-${DATABASE_URL:-}}"
  if [ -n "$url" ]; then
    pg_ready "$url" || { echo "Postgres at the given URL does not answer" >&2; return 1; }
    export MODELRUN_TEST_DATABASE_URL="$url"
    return 0
  fi
  url="postgres://postgres@127.0.0.1:5432/postgres"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "Installing PostgreSQL from Debian's packages..."
    pg_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive pg_sudo apt-get install -y -qq postgresql postgresql-contrib >/dev/null
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if ! pg_ready "$url" && ! pg_ready "postgres://postgres:postgres@127.0.0.1:5432/postgres"; then
    echo "Starting the local PostgreSQL $version cluster..."
    pg_sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 1
    done
  fi
  if ! pg_ready "$url"; then
    # A fresh Debian install does not trust TCP logins: give the postgres
    # role a password over the local socket, and use it.
    pg_sudo su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
    url="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  pg_ready "$url" || { echo "cannot reach PostgreSQL on 127.0.0.1:5432" >&2; return 1; }
  export MODELRUN_TEST_DATABASE_URL="$url"
}
