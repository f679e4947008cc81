#!/usr/bin/env bash
# Validates every Kubernetes manifest under deploy/k8s against the API's own
# schemas, offline: kubernetes-validate (PyPI) carries the schemas of each
# Kubernetes version, so no cluster and no network beyond the package index.
# Cross-references (claims, config keys, probe paths) are checked by tests/deploy.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate
fi
version=${K8S_VERSION:-1.30.0}
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS= read -r f; do
  # The proxy's manifest names the socket's group as DOCKER_GID, replaced by
  # the user with sed (deploy/k8s/optional/docker-api.yaml); validate it as
  # they would apply it.
  checked="$tmp/$(basename "$f")"
  sed 's/\bDOCKER_GID\b/999/g' "$f" >"$checked"
  if ! out=$(kubernetes-validate --strict -k "$version" "$checked" 2>&1); then
    echo "check_k8s: $f is not a valid Kubernetes $version manifest:" >&2
    echo "$out" >&2
    status=1
  fi
done < <(find deploy/k8s -name '*.yaml' | sort)
[ "$status" -eq 0 ] && echo "check_k8s: every manifest under deploy/k8s is valid for Kubernetes $version"
exit "$status"
