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
# Flux's source-controller and kustomize-controller, for TestDelivery (delivery_test.go).
LAB_TO_PROD_FLUX_BIN="$("$here/build-flux.sh")"
export LAB_TO_PROD_FLUX_BIN
export LAB_TO_PROD_KUBE_VERSION
LAB_TO_PROD_KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/tools/kube/go.mod")"

# Compile the tests to a binary and run it directly (not through `go test`),
# so that Ctrl-C and SIGTERM reach the process that owns the control plane
# and it can stop every component before exiting.
test_binary="$repo/.cache/cluster/cluster.test"
(cd "$here" && go test -c -o "$test_binary" .)
cd "$here"
# TestRealNode and TestBehaviours run only inside the namespaces of run-node.sh (`npm run test:node`),
# TestLab only inside run-lab.sh's (`npm run test:lab`);
# the fetch check ran above.
# -test.parallel 4: the four environments of TestEnvironments and TestAccess run side by side.
not_here='TestRealNode|TestBehaviours|TestLab|TestBuildScriptsFetchFromEmptyGoCaches'
if [[ $# -gt 0 ]]; then
  exec "$test_binary" -test.v -test.count=1 -test.parallel=4 -test.timeout=80m -test.skip "^($not_here)\$" "$@"
fi
# The whole run: TestDelivery in a process of its own, beside the others. Go starts a parallel
# top-level test only after every sequential one has ended, and most of TestDelivery's time is spent
# waiting for Flux's intervals, not computing. Its output is printed once it ends.
#
# LAB_TO_PROD_DELIVERY_ELSEWHERE=1 (run-all.sh, for `npm test`, which starts TestDelivery before the
# unit tests, beside everything): the others only.
if [[ -n "${LAB_TO_PROD_DELIVERY_ELSEWHERE:-}" ]]; then
  exec "$test_binary" -test.v -test.count=1 -test.parallel=4 -test.timeout=80m -test.skip "^($not_here|TestDelivery)\$"
fi
delivery_log="$repo/.cache/cluster/delivery.log"
"$test_binary" -test.v -test.count=1 -test.timeout=60m -test.run '^TestDelivery$' >"$delivery_log" 2>&1 &
delivery=$!
"$test_binary" -test.v -test.count=1 -test.parallel=4 -test.timeout=80m -test.skip "^($not_here|TestDelivery)\$" &
others=$!
# Both stop their control planes on SIGINT or SIGTERM (TestMain): pass it on.
trap 'kill -TERM "$delivery" "$others" 2>/dev/null' INT TERM
status=0
wait "$others" || status=$?
delivery_status=0
wait "$delivery" || delivery_status=$?
echo "--- TestDelivery (run beside the others; its log: .cache/cluster/delivery.log) ---"
cat "$delivery_log"
if [[ $status -eq 0 ]]; then
  status=$delivery_status
fi
exit "$status"
