# PostgreSQL for the tracking tests: a throwaway cluster on 127.0.0.1 that a test uses as the
# backend store of a real `mlflow server` (tests/tracking/test_postgres.py). mlflow talks to it
# through psycopg2-binary, which the test extra installs.
apt_install postgresql

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_DATA=$(mktemp -d /tmp/mlproj-postgres.XXXXXX)
PG_PORT=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# initdb refuses to run as root: run the server as the postgres user when we are root.
pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DATA"; fi

pg_as "$PG_BIN/initdb" -D "$PG_DATA/data" -U postgres -A trust --no-sync >/dev/null
pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA -c fsync=off" start >/dev/null
on_exit "pg_as '$PG_BIN/pg_ctl' -D '$PG_DATA/data' -m fast -w stop >/dev/null; rm -rf '$PG_DATA'"

pg_as "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 \
  -c "CREATE USER mlproj PASSWORD 'mlproj'" -c "CREATE DATABASE mlproj OWNER mlproj"

# +psycopg2: SQLAlchemy >= 2.1 picks psycopg (v3) for a bare postgresql:// URI, and the test
# extra installs psycopg2-binary.
export MLPROJ_TEST_POSTGRES_URI="postgresql+psycopg2://mlproj:mlproj@127.0.0.1:$PG_PORT/mlproj"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
