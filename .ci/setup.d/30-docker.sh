# Docker engine for tests/docker: a private dockerd on its own socket, data root and pidfile
# (so it cannot clash with a system docker), and a base image built locally with debootstrap
# (no container registry can be reached). Exports DOCKER_HOST and MLPROJ_TEST_DOCKER_IMAGE.
apt_install docker.io debootstrap ca-certificates

MLPROJ_DOCKER_DIR=/var/lib/mlproj-ci-docker
MLPROJ_DOCKER_CACHE=/var/cache/mlproj-ci
MLPROJ_DOCKER_IMAGE=mlproj-test-base:bookworm
# The mlflow-skinny that goes into the image: the same version as the tests' mlflow, so code in
# a container logs with the real client into the run's file store.
MLPROJ_DOCKER_MLFLOW=$(python -c 'import importlib.metadata as m; print(m.version("mlflow"))')
mkdir -p "$MLPROJ_DOCKER_DIR" "$MLPROJ_DOCKER_CACHE"

_docker_answers() { DOCKER_HOST="$1" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

_docker_storage_driver() {
  # overlay2 where the data root's filesystem supports it (fast container starts); vfs elsewhere.
  case "$(stat -f -c %T "$MLPROJ_DOCKER_DIR")" in
    ext2/ext3|ext4|xfs) echo overlay2 ;;
    *) echo vfs ;;
  esac
}

_docker_start() {
  local sock="$CI_STATE/docker.sock" pidfile="$MLPROJ_DOCKER_DIR/dockerd.pid" old i
  # unix socket paths are limited to 107 bytes
  [ ${#sock} -le 100 ] || sock="$MLPROJ_DOCKER_DIR/docker.sock"
  # A daemon that this script started earlier and that still answers is reused as it is.
  if [ -f "$MLPROJ_DOCKER_DIR/host" ] && _docker_answers "$(cat "$MLPROJ_DOCKER_DIR/host")"; then
    export DOCKER_HOST="$(cat "$MLPROJ_DOCKER_DIR/host")"
    echo "reusing dockerd at $DOCKER_HOST"
    return 0
  fi
  # One that does not answer, on our data root, would keep a new one from starting: stop it.
  old=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q -- "$MLPROJ_DOCKER_DIR/data"; then
    kill "$old" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$pidfile" "$MLPROJ_DOCKER_DIR/exec" "$MLPROJ_DOCKER_DIR/host" "$sock"
  dockerd --host "unix://$sock" \
    --data-root "$MLPROJ_DOCKER_DIR/data" --exec-root "$MLPROJ_DOCKER_DIR/exec" \
    --pidfile "$pidfile" --storage-driver "$(_docker_storage_driver)" \
    --iptables=false --ip-masq=false --bridge=none \
    >"$MLPROJ_DOCKER_DIR/dockerd.log" 2>&1 &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; for _ in \$(seq 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; rm -f '$MLPROJ_DOCKER_DIR/host'"
  export DOCKER_HOST="unix://$sock"
  for i in $(seq 120); do
    _docker_answers "$DOCKER_HOST" && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$MLPROJ_DOCKER_DIR/dockerd.log"; return 1; }
    sleep 0.5
  done
  _docker_answers "$DOCKER_HOST" || { tail -20 "$MLPROJ_DOCKER_DIR/dockerd.log"; return 1; }
  echo "$DOCKER_HOST" >"$MLPROJ_DOCKER_DIR/host"
  echo "dockerd $(docker version --format '{{.Server.Version}}') at $DOCKER_HOST"
}

_debian_mirror() {
  # The Debian mirror that apt already uses here (deb822 .sources or one-line .list files).
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         /(^|\n)Suites:[^\n]*[[:space:]]bookworm([[:space:]]|$)/ {
           for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, a, /[[:space:]]+/); print a[2]; exit }
         }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i+1) == "bookworm") print $i; break } }' \
    || true
}

_docker_base_rootfs() {
  # Build (once; the tarball is cached outside the repo) a Debian rootfs with python3 and the
  # real mlflow-skinny installed from wheels.
  local tarball="$MLPROJ_DOCKER_CACHE/base-rootfs-mlflow$MLPROJ_DOCKER_MLFLOW.tar" mirror root log
  [ -s "$tarball" ] && { echo "$tarball"; return 0; }
  mirror=$(_debian_mirror | awk 'NR == 1')
  [ -n "$mirror" ] || { echo "no Debian bookworm mirror found in apt's sources" >&2; return 1; }
  # Leftovers of an interrupted build (--one-file-system: never into a proc/sys mount inside).
  rm -rf --one-file-system "$MLPROJ_DOCKER_CACHE"/rootfs.* "$tarball.tmp"
  root=$(mktemp -d "$MLPROJ_DOCKER_CACHE/rootfs.XXXXXX")
  echo "debootstrap from $mirror" >&2
  log="$MLPROJ_DOCKER_CACHE/rootfs-build.log"
  debootstrap --variant=minbase --include=python3 bookworm "$root" "$mirror" >"$log" 2>&1 \
    || { tail -30 "$log" >&2; return 1; }
  # Same CPython minor (3.11) and architecture as the host: pip installs cp311 manylinux wheels.
  python -m pip install -q --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_28_x86_64 --platform linux_x86_64 \
    --target "$root/usr/local/lib/python3.11/dist-packages" "mlflow-skinny==$MLPROJ_DOCKER_MLFLOW" \
    >>"$log" 2>&1 || { tail -30 "$log" >&2; return 1; }
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  tar -C "$root" -c . >"$tarball.tmp" && mv "$tarball.tmp" "$tarball"
  rm -rf --one-file-system "$root"
  echo "$tarball"
}

_docker_base_image() {
  if docker image inspect "$MLPROJ_DOCKER_IMAGE" >/dev/null 2>&1; then
    echo "base image $MLPROJ_DOCKER_IMAGE present"
    return 0
  fi
  local tarball
  tarball=$(_docker_base_rootfs)
  docker import --change 'CMD ["bash"]' --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    "$tarball" "$MLPROJ_DOCKER_IMAGE" >/dev/null
  echo "imported $MLPROJ_DOCKER_IMAGE"
}

_docker_start
_docker_base_image
export MLPROJ_TEST_DOCKER_IMAGE="$MLPROJ_DOCKER_IMAGE"
