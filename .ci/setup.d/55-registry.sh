# A container registry on 127.0.0.1 for tests/backends/kubernetes: `-b kubernetes` pushes the
# project image there with the docker SDK and the test pulls it back (dockerd allows plain http
# to registries on 127.0.0.0/8). Debian's docker-registry (the CNCF distribution), its own
# config and storage. Exports MLPROJ_TEST_REGISTRY=127.0.0.1:<port>.
apt_install docker-registry

MLPROJ_REGISTRY_DIR=/var/lib/mlproj-ci-registry
MLPROJ_REGISTRY_ADDR=127.0.0.1:${MLPROJ_REGISTRY_PORT:-5055}
mkdir -p "$MLPROJ_REGISTRY_DIR/data"

_registry_answers() { curl -fsS "http://$MLPROJ_REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

_registry_start() {
  if _registry_answers; then
    echo "reusing registry at $MLPROJ_REGISTRY_ADDR"
    return 0
  fi
  cat >"$MLPROJ_REGISTRY_DIR/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $MLPROJ_REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $MLPROJ_REGISTRY_ADDR
CONF
  docker-registry serve "$MLPROJ_REGISTRY_DIR/config.yml" >"$MLPROJ_REGISTRY_DIR/registry.log" 2>&1 &
  local pid=$! i
  on_exit "kill $pid 2>/dev/null || true"
  for i in $(seq 50); do
    _registry_answers && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  _registry_answers || { tail -20 "$MLPROJ_REGISTRY_DIR/registry.log"; return 1; }
  echo "registry at $MLPROJ_REGISTRY_ADDR"
}

_registry_start
export MLPROJ_TEST_REGISTRY="$MLPROJ_REGISTRY_ADDR"
