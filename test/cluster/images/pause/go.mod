// The stand-in for registry.k8s.io/pause: see FACTS.md beside this file.
module labtoprod/test/cluster/images/pause

go 1.24
