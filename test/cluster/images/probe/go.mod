// The test client of the real-node tests (not a stand-in for any upstream
// image): see README.md beside this file.
module labtoprod/test/cluster/images/probe

go 1.24
