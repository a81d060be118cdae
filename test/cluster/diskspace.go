package cluster

import (
	"fmt"
	"syscall"
)

// Free disk for the test nodes. Their kubelets evict every pod once the node's file system has less
// free than kubeletEvictionFreePercent of its size (evictionHard, startKubelet), and the nodes' own
// images, containers and volumes are written to that file system (the run's folder). On a machine
// short of disk that shows as pods that never become Ready, long after the start ("The node was low
// on resource: ephemeral-storage"); checked before the nodes start, it is said at once.

// kubeletEvictionFreePercent is the share of the node's file system (and of its image file system,
// the same here) that the test nodes' kubelets keep free by evicting pods.
const kubeletEvictionFreePercent = 1

// nodeRunsNeedBytes is what the test nodes write while they run, with room to spare: the largest drop
// of the file system's free space while TestLab's three nodes and TestBehaviours' node ran side by
// side, as `npm test` runs them, was 3.3 GB (docs/cluster-tests.md). A variable so a test can raise it.
var nodeRunsNeedBytes uint64 = 5_000_000_000

// diskSpace is a file system's free space (for an unprivileged user: what the kubelet counts as
// available) and size, in bytes.
type diskSpace struct{ available, size uint64 }

func diskSpaceOf(folder string) (diskSpace, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(folder, &fs); err != nil {
		return diskSpace{}, fmt.Errorf("reading the free disk of %s: %w", folder, err)
	}
	return diskSpace{available: fs.Bavail * uint64(fs.Bsize), size: fs.Blocks * uint64(fs.Bsize)}, nil
}

// enoughDiskForNodes is nil when space, the file system of folder, holds the nodes' writes (needs)
// above what their kubelets keep free; otherwise an error that says what is short and what to do.
func enoughDiskForNodes(folder string, space diskSpace, needs uint64) error {
	kept := space.size / 100 * kubeletEvictionFreePercent
	if space.available >= kept+needs {
		return nil
	}
	return fmt.Errorf("not enough free disk for the test nodes: %s has %s free on its file system; they need %s: "+
		"%s for their images, containers and volumes, and %s (%d%% of the file system) that their kubelets keep "+
		"free by evicting every pod (evictionHard nodefs.available). Free disk and run again "+
		"(Go's build cache, emptied by `go clean -cache`, is often the largest)",
		folder, gigabytes(space.available), gigabytes(kept+needs), gigabytes(needs), gigabytes(kept), kubeletEvictionFreePercent)
}

// checkDiskForNodes checks the file system of folder, the run's folder where the nodes write.
func checkDiskForNodes(folder string) error {
	space, err := diskSpaceOf(folder)
	if err != nil {
		return err
	}
	return enoughDiskForNodes(folder, space, nodeRunsNeedBytes)
}

func gigabytes(bytes uint64) string {
	return fmt.Sprintf("%.1f GB", float64(bytes)/1e9)
}
