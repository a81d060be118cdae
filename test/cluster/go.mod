// The cluster tests: start a real control plane (built by build.sh), apply
// each environment's rendered YAML with the real kubectl, and check that
// everything rolls out. Standard library only, so it compiles in seconds.
module labtoprod/test/cluster

go 1.24.0
