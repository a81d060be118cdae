// Builds hashicorp/http-echo at the version the lab's api image is tagged
// with: the stand-in runs the same program as the upstream image.
module labtoprod/test/cluster/images/tools/http-echo

go 1.24

tool github.com/hashicorp/http-echo

require github.com/hashicorp/http-echo v1.0.0 // indirect
