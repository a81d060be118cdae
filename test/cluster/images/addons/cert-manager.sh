# Certificates: cert-manager's four images the lab runs (dist/lab/01-cert-manager.yaml), the
# controller, webhook and cainjector Deployments and the startupapicheck Job, all
# quay.io/jetstack/cert-manager-<component>:v1.21.2. Sourced by build-addons.sh; each image's
# facts are in cert-manager-<component>/FACTS.md.

cert_manager_components=(controller webhook cainjector startupapicheck)

cert_manager_version() { required_version "$here/tools/cert-manager/go.mod" github.com/cert-manager/cert-manager; }

# patched_cert_manager <folder>: puts there cert-manager-module (a copy of cert-manager's module in
# which the controller configuration's defaults no longer import the two Venafi signer controllers)
# and cert-manager.go.mod, cert-manager.go.sum (tools/cert-manager's, with a replace directive
# pointing at the copy). Those controllers need github.com/Venafi/vcert/v5, whose source the Go
# module proxy does not serve; the defaults name them only to list them, so their names stay as
# the same strings. Go's module cache is read-only, so the change is made in a copy, as
# addons/flannel.sh does; the build stops unless exactly those lines changed.
patched_cert_manager() (
  local folder=$1 module copy defaults=internal/apis/config/controller/v1alpha1/defaults.go
  cd "$here/tools/cert-manager"
  module="$(module_dir github.com/cert-manager/cert-manager)"
  copy="$folder/cert-manager-module"
  cp -r "$module" "$copy"
  chmod -R u+w "$copy"
  sed -i \
    -e '/^\s*crvenaficontroller "github.com\/cert-manager\/cert-manager\/pkg\/controller\/certificaterequests\/venafi"$/d' \
    -e '/^\s*csrvenaficontroller "github.com\/cert-manager\/cert-manager\/pkg\/controller\/certificatesigningrequests\/venafi"$/d' \
    -e 's/\bcrvenaficontroller\.CRControllerName\b/"certificaterequests-issuer-venafi"/' \
    -e 's/\bcsrvenaficontroller\.CSRControllerName\b/"certificatesigningrequests-issuer-venafi"/' \
    "$copy/$defaults"
  # Two import lines removed, five names replaced by their values: twelve lines of diff.
  if [[ "$(diff "$module/$defaults" "$copy/$defaults" | grep -c '^[<>]')" != 12 ]] || grep -q 'venafi"$' "$copy/$defaults"; then
    die "cert-manager: expected to drop the two Venafi controller imports from $defaults and name them by value (12 lines of diff); the file changed, review addons/cert-manager.sh"
  fi
  cp go.mod "$folder/cert-manager.go.mod"
  cp go.sum "$folder/cert-manager.go.sum"
  echo "replace github.com/cert-manager/cert-manager => $copy" >> "$folder/cert-manager.go.mod"
)

fetch_cert_manager() {
  local scratch
  scratch="$(mktemp -d -t lab-to-prod-fetch-cert-manager.XXXXXX)"
  patched_cert_manager "$scratch"
  fetched "cert-manager version (tools/cert-manager/go.mod)" "$(cert_manager_version)"
  fetched "cert-manager's module, copied without the Venafi controllers' imports" \
    "$(grep -c 'venafi' "$scratch/cert-manager-module/internal/apis/config/controller/v1alpha1/defaults.go") Venafi names left, as strings"
  rm -rf "$scratch"
}

# cert_manager_path <component>: where upstream's image puts the binary (hack/containers/Containerfile.<component>).
cert_manager_path() {
  if [[ "$1" == startupapicheck ]]; then echo /startupapicheck; else echo "/app/cmd/$1/$1"; fi
}

addon_cert_manager() {
  local version component r path
  version="$(cert_manager_version)"
  patched_cert_manager "$work"
  # Our commands' shared start-up and flag reading (tools/cert-manager/command) first.
  (cd "$here/tools/cert-manager" && CGO_ENABLED=0 go test -modfile="$work/cert-manager.go.mod" -mod=readonly -count=1 ./command >&2)
  # As the release build stamps it (make/00_mod.mk: GOLDFLAGS, GOFLAGS := -trimpath, CGO_ENABLED 0).
  mkdir -p "$work/bin/cert-manager"
  (cd "$here/tools/cert-manager" && CGO_ENABLED=0 go build -modfile="$work/cert-manager.go.mod" -mod=readonly -trimpath \
    -buildvcs=false -ldflags "-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$version" \
    -o "$work/bin/cert-manager/" ./controller ./webhook ./cainjector ./startupapicheck)

  for component in "${cert_manager_components[@]}"; do
    r="$work/rootfs/cert-manager-$component"
    path="$(cert_manager_path "$component")"
    distroless_static "$r"
    install -D -m 0755 "$work/bin/cert-manager/$component" "$r$path"
    install -D -m 0644 "$work/cert-manager-module/LICENSE" "$r/licenses/LICENSE"
    install -D -m 0644 "$work/cert-manager-module/LICENSES" "$r/licenses/LICENSES"
    runs_in_rootfs "cert-manager-$component" "$path" --help
    cert_manager_takes_lab_args "$component" "$path"
    pack "cert-manager-$component" "quay.io/jetstack/cert-manager-$component:$version" \
      "Go module github.com/cert-manager/cert-manager $version (without its Venafi issuer), our command (tools/cert-manager/$component)" \
      -entrypoint "[\"$path\"]" "${distroless_env[@]}" -user 65532 -workdir /home/nonroot \
      -label org.opencontainers.image.source=https://github.com/cert-manager/cert-manager
  done
}

# cert_manager_takes_lab_args <component> <path>: the arguments dist/lab/01-cert-manager.yaml gives
# the component (with $(POD_NAMESPACE) as the kubelet expands it), then --help: the command parses
# them all before the help stops it, so a flag our command does not take fails the build here
# rather than the pod in the cluster.
cert_manager_takes_lab_args() {
  local component=$1 path=$2 args=()
  case "$component" in
    controller) args=(--v=2 --cluster-resource-namespace=cert-manager --leader-election-namespace=kube-system
      --acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1.21.2 --max-concurrent-challenges=60) ;;
    webhook) args=(--v=2 --secure-port=10250 --dynamic-serving-ca-secret-namespace=cert-manager
      --dynamic-serving-ca-secret-name=cert-manager-webhook-ca --dynamic-serving-dns-names=cert-manager-webhook
      --dynamic-serving-dns-names=cert-manager-webhook.cert-manager --dynamic-serving-dns-names=cert-manager-webhook.cert-manager.svc) ;;
    cainjector) args=(--v=2 --leader-election-namespace=kube-system) ;;
    startupapicheck) args=(check api --wait=1m -v) ;;
  esac
  runs_in_rootfs "cert-manager-$component" "$path" "${args[@]}" --help
}
