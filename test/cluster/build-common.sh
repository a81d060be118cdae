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

# The build scripts' --fetch-only mode (test/cluster/fetch_test.go runs it against empty Go caches):
# only the steps that read Go's module cache outside `go build` (a module's folder, a file in it, a
# version), each checked, and nothing built, installed or cached. `go build` downloads what it
# compiles by itself; a step that reads the cache directly finds only what an earlier run left
# there, which is how a build can pass on a warm machine and fail on a new one.
fetch_only=false
read_fetch_only_flag() {
  case "${1:-}" in
    "") ;;
    --fetch-only) fetch_only=true ;;
    *)
      echo "$(basename "$0"): unknown argument '$1'; the one option is --fetch-only (download and check what the build reads from Go's module cache, build nothing)" >&2
      exit 2
      ;;
  esac
}

# fetched <what> <path or value>: the --fetch-only report, one line per thing the build reads.
fetched() {
  echo "fetch-only: $1: $2" >&2
}

# module_dir <module>: the folder of <module>, at the version the go.mod of the current folder
# requires, in Go's module cache. It is downloaded first: `go list -m -f '{{.Dir}}'` prints an empty
# path for a module that is not in the cache yet.
module_dir() {
  local module=$1 dir
  if ! go mod download "$module"; then
    echo "$(basename "$0"): 'go mod download $module' failed in $PWD" >&2
    return 1
  fi
  dir="$(go list -m -f '{{.Dir}}' "$module")"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    echo "$(basename "$0"): Go's module cache has no folder for $module after downloading it (go list printed '$dir')" >&2
    return 1
  fi
  echo "$dir"
}

# required_version <go.mod> <module>: the version that go.mod requires (a `require` line or a line
# of a require block), read from the file so that no module has to be downloaded for it.
required_version() {
  local mod=$1 module=$2 version
  version="$(awk -v m="$module" '($1 == "require" && $2 == m) { print $3 } ($1 == m && $2 ~ /^v/) { print $2 }' "$mod" | head -1)"
  if [[ -z "$version" ]]; then
    echo "$(basename "$0"): $mod requires no version of $module" >&2
    return 1
  fi
  echo "$version"
}
