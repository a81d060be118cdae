# Shared by build.sh and build-node.sh (sourced, not run).

# exit_if_cached <what> <bin folder> <binary>...: when every binary is in the folder, says so,
# prints the folder and exits 0, as a warm run does.
exit_if_cached() {
  local what=$1 folder=$2 name
  shift 2
  for name in "$@"; do
    [[ -s "$folder/$name" ]] || return 0
  done
  echo "$what: cached in $folder" >&2
  echo "$folder"
  exit 0
}

# release_stamp <version>: the -ldflags -X settings Kubernetes' own release build sets
# (hack/lib/version.sh); without them the binaries report v0.0.0, kubectl warns about version skew
# and the API server's skew checks fail a kubelet.
release_stamp() {
  local version=$1 minor pkg stamp=""
  minor="${version#v1.}"
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$stamp"
}
