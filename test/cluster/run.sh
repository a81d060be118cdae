#!/usr/bin/env bash
# `npm run test:cluster`: builds (or finds cached) the control plane, then
# runs the cluster tests against dist/<env>/ for every environment.
#
#   npm run test:cluster                      all four environments, plus the harness's own tests
#   npm run test:cluster -- -run 'TestEnvironments/lab'    one environment (any `go test` flag works)
#
# Environment: LAB_TO_PROD_ENVS=lab,prod-eks (a subset), LAB_TO_PROD_DIST
# (another dist folder), KUBECTL (another kubectl). The add-ons' CRDs come
# with each environment's YAML (dist/<env>/00-<addon>-crds.yaml).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# First every build script's fetch steps against empty Go caches (fetch_test.go): a step that reads
# Go's module cache before downloading into it fails there in seconds, not after a long build.
(cd "$here" && go test -count=1 -run '^TestBuildScriptsFetchFromEmptyGoCaches$' .)

bin="$("$here/build.sh")"
export LAB_TO_PROD_CLUSTER_BIN="$bin"
export LAB_TO_PROD_KUBE_VERSION
LAB_TO_PROD_KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/tools/kube/go.mod")"

# Compile the tests to a binary and run it directly (not through `go test`),
# so that Ctrl-C and SIGTERM reach the process that owns the control plane
# and it can stop every component before exiting.
test_binary="$repo/.cache/cluster/cluster.test"
(cd "$here" && go test -c -o "$test_binary" .)
cd "$here"
# TestRealNode and TestBehaviours run only inside the namespaces of run-node.sh (`npm run test:node`);
# the fetch check ran above.
# -test.parallel 4: the four environments of TestEnvironments and TestAccess run side by side.
exec "$test_binary" -test.v -test.count=1 -test.parallel=4 -test.timeout=80m -test.skip '^(TestRealNode|TestBehaviours|TestBuildScriptsFetchFromEmptyGoCaches)$' "$@"
