#!/usr/bin/env bash
# Makes a PostgreSQL server on 127.0.0.1:5432 available to the ledger's tests
# and exports SHIXINCHECK_TEST_POSTGRES. Uses the running server when it
# answers; otherwise installs Debian's postgresql, starts its cluster and
# gives the postgres role a password for TCP log-ins. Sourced by test.sh.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
: "${SHIXINCHECK_TEST_POSTGRES:=postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

pg_answers() { psql "$1" -Atc 'select 1' >/dev/null 2>&1; }

if ! command -v psql >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "setup: installing postgresql"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "setup: starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
if ! pg_answers "$SHIXINCHECK_TEST_POSTGRES"; then
  # A fresh Debian cluster refuses password-less TCP log-ins: set one, and make the test database.
  as_root su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
  as_root su postgres -c "psql -Atc \"select 1 from pg_database where datname='test'\" | grep -q 1 || createdb test"
  SHIXINCHECK_TEST_POSTGRES=postgres://postgres:postgres@127.0.0.1:5432/test?sslmode=disable
fi
pg_answers "$SHIXINCHECK_TEST_POSTGRES" || { echo "setup: PostgreSQL at 127.0.0.1:5432 does not answer"; exit 1; }
export SHIXINCHECK_TEST_POSTGRES
