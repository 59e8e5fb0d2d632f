#!/usr/bin/env bash
# The container image, built and run for real (issue #10 items 1-2).
#
# Needs target/release/tvm (built by .ci/run just before). No image registry is
# reachable here, so the Dockerfile's production bases cannot be pulled: this
# script makes a distroless-like base from scratch (the binary's shared
# libraries, CA certificates, a nonroot user; no shell), builds the Dockerfile's
# `runtime-prebuilt` target on it with podman, then:
#   - checks the image's user, ports and labels, and hadolint-lints the Dockerfile;
#   - runs `tvm dev --exit-after-self-test` inside it (--read-only, --cap-drop ALL,
#     no-new-privileges, no network but loopback): a vend end to end, exit 0;
#   - runs it serving on the host's loopback and vends through it from outside
#     with `tvm credentials`;
#   - sends SIGTERM and requires a drained exit with status 0.
# Every check exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/tvm
IMAGE=localhost/tvm:ci
BASE=localhost/tvm-base:ci
WORK=$(mktemp -d)
NAME=tvm-ci-$$
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BIN" ] || { echo "image: $BIN missing; run cargo build --release first" >&2; exit 1; }

echo "== image: tools (podman, hadolint)"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    podman buildah runc uidmap fuse-overlayfs slirp4netns >/dev/null
fi
# crun fails on this cgroup setup; without the ulimits podman cannot set rlimits.
cat > "$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits=["nofile=1024:1024","nproc=1024:1024"]
netns="none"
[engine]
runtime="runc"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"
.venv-deploy/bin/hadolint Dockerfile
echo "hadolint: clean"

echo "== image: base from scratch (shared libraries, CA certificates, nonroot user)"
ROOT="$WORK/rootfs"
mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/usr/local/bin"
# Every library the dynamic loader resolves for the binary, loader included.
ldd "$BIN" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
  install -D -m 0755 "$lib" "$ROOT$lib"
  real=$(readlink -f "$lib"); [ "$real" = "$lib" ] || install -D -m 0755 "$real" "$ROOT$real"
done
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$ROOT/etc/group"
tar -C "$ROOT" -c . | podman import --quiet - "$BASE" >/dev/null
if podman run --rm "$BASE" /bin/sh -c true >/dev/null 2>&1; then
  echo "image: the base must not have a shell" >&2; exit 1
fi

echo "== image: podman build --target runtime-prebuilt"
podman build --quiet --target runtime-prebuilt \
  --build-arg RUNTIME_IMAGE="$BASE" \
  --build-arg VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -t "$IMAGE" . >/dev/null
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
ports=$(podman image inspect --format '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMAGE")
licence=$(podman image inspect --format '{{index .Config.Labels "org.opencontainers.image.licenses"}}' "$IMAGE")
version=$(podman image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")
echo "user=$user ports=[$ports] licence=$licence version=$version"
[ "$user" = "65532:65532" ] || { echo "image: user must be 65532:65532" >&2; exit 1; }
case "$ports" in *8080/tcp*9090/tcp*) ;; *) echo "image: must EXPOSE 8080 and 9090" >&2; exit 1;; esac
[ "$licence" = "Apache-2.0" ] && [ -n "$version" ] || { echo "image: OCI labels missing" >&2; exit 1; }
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image size: $size bytes ($((size / 1024 / 1024)) MiB); binary $(stat -c %s "$BIN") bytes"

HARDENED=(--read-only --cap-drop ALL --security-opt no-new-privileges)

echo "== image: tvm dev self-test inside the container (no network but loopback)"
podman run --rm "${HARDENED[@]}" --network none "$IMAGE" \
  dev --port 0 --admin-port 0 --exit-after-self-test --log-format json > "$WORK/selftest.out" 2>&1 \
  || { cat "$WORK/selftest.out"; echo "image: self-test failed" >&2; exit 1; }
grep -q "Self-test passed." "$WORK/selftest.out" || { cat "$WORK/selftest.out"; exit 1; }
grep "POST /vend\|403 POLICY_DENY\|GetCallerIdentity with the vended" "$WORK/selftest.out"

echo "== image: serving on the host's loopback, a vend from outside, then SIGTERM"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API=$(port); ADMIN=$(port)
podman run -d --name "$NAME" "${HARDENED[@]}" --network host "$IMAGE" \
  dev --port "$API" --admin-port "$ADMIN" --no-self-test --log-format json >/dev/null
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$ADMIN/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$ADMIN/readyz"
uid=$(podman top "$NAME" huser user | tail -n1)
echo "container process runs as (host uid, user): $uid"
case "$uid" in *65532*) ;; *) echo "image: process must run as 65532" >&2; exit 1;; esac
env -u AWS_SESSION_TOKEN -u AWS_PROFILE \
  AWS_ACCESS_KEY_ID=AKIATVMDEMOALICE0001 \
  AWS_SECRET_ACCESS_KEY=tvmDemoSecretForAliceValidOnlyInTheSimulator \
  AWS_REGION=us-east-1 HOME="$WORK" \
  "$BIN" credentials --url "http://127.0.0.1:$API" --profile demo-readonly > "$WORK/creds.json"
python3 - "$WORK/creds.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["Version"] == 1 and c["AccessKeyId"].startswith("ASIA"), c.keys()
print("vend through the container: Version", c["Version"], "AccessKeyId", c["AccessKeyId"], "Expiration", c["Expiration"])
PY
podman kill --signal TERM "$NAME" >/dev/null
status=$(podman wait "$NAME")
podman logs "$NAME" > "$WORK/serve.log" 2>&1
grep -q "SIGTERM received" "$WORK/serve.log" && grep -q "shutdown complete" "$WORK/serve.log" \
  || { cat "$WORK/serve.log"; echo "image: no drained shutdown in the log" >&2; exit 1; }
echo "SIGTERM: exit status $status"
[ "$status" = "0" ] || { cat "$WORK/serve.log"; echo "image: SIGTERM must exit 0" >&2; exit 1; }
echo "image: all checks passed"
