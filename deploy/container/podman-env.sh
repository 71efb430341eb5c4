# shellcheck shell=bash
# Sourced: podman settings for the project's container scripts and tests.
# A private containers.conf (runc, explicit ulimits: both needed where podman
# runs inside a sandbox) and private image storage under the cache directory,
# so nothing goes to the system's podman storage.
#   LINEBRIDGE_CACHE_DIR   default /var/cache/linebridge
LINEBRIDGE_CACHE_DIR="${LINEBRIDGE_CACHE_DIR:-/var/cache/linebridge}"
lb_podman_dir="$LINEBRIDGE_CACHE_DIR/podman"
mkdir -p "$lb_podman_dir/storage" "$lb_podman_dir/run"
if [ ! -f "$lb_podman_dir/containers.conf" ]; then
  cat >"$lb_podman_dir/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
fi
export CONTAINERS_CONF="$lb_podman_dir/containers.conf"
export CONTAINERS_STORAGE_CONF="$lb_podman_dir/storage.conf"
lb_storage_conf() {
  cat >"$lb_podman_dir/storage.conf" <<CONF
[storage]
driver = "$1"
graphroot = "$lb_podman_dir/storage"
runroot = "$lb_podman_dir/run"
CONF
}
# overlay where the kernel and the sandbox allow it, else vfs (slower: every
# container is a full copy of its image). Chosen once.
if [ ! -f "$lb_podman_dir/storage.conf" ]; then
  lb_storage_conf overlay
  if ! podman info >/dev/null 2>&1; then
    rm -rf "$lb_podman_dir/storage" "$lb_podman_dir/run"
    mkdir -p "$lb_podman_dir/storage" "$lb_podman_dir/run"
    lb_storage_conf vfs
  fi
fi
