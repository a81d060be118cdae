package cluster

import (
	"strings"
	"testing"
)

// TestDiskForNodes: the free-disk check before the test nodes start passes with room for the nodes'
// writes above what their kubelets keep free, and otherwise fails saying the folder, what is free,
// what is needed and why. No cluster needed.
func TestDiskForNodes(t *testing.T) {
	const gb = 1_000_000_000
	space := diskSpace{size: 250 * gb} // the kubelets keep 1%, 2.5 GB, free
	needs := uint64(4 * gb)

	space.available = 6_500_000_000 // exactly what is kept plus what the nodes write
	if err := enoughDiskForNodes("/runs/lab", space, needs); err != nil {
		t.Fatalf("6.5 GB free of 250 GB, 4 GB needed: %v", err)
	}
	space.available--
	err := enoughDiskForNodes("/runs/lab", space, needs)
	if err == nil {
		t.Fatal("one byte short of 6.5 GB free of 250 GB, 4 GB needed: no error")
	}
	for _, want := range []string{"/runs/lab", "6.5 GB free", "need 6.5 GB", "4.0 GB for their images",
		"2.5 GB (1% of the file system)", "evictionHard", "Free disk"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}

	// The machine's own file system: read, and a need larger than the disk refused.
	folder := t.TempDir()
	real, err := diskSpaceOf(folder)
	if err != nil || real.size == 0 || real.available > real.size {
		t.Fatalf("free disk of %s: %+v, %v", folder, real, err)
	}
	if err := enoughDiskForNodes(folder, real, real.size); err == nil {
		t.Fatalf("%s: a need of the whole file system (%d bytes) was not refused", folder, real.size)
	}
	if _, err := diskSpaceOf(folder + "/missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("a missing folder: %v", err)
	}
}

// TestNodeToolsCheckDisk: the nodes' tools are not handed out when the run's folder is short of
// disk, so no node starts (the check is nodeToolsFromEnv's, which every real-node test calls first).
func TestNodeToolsCheckDisk(t *testing.T) {
	state := t.TempDir()
	t.Setenv("LAB_TO_PROD_NODE_BIN", t.TempDir())
	t.Setenv("LAB_TO_PROD_IMAGES", t.TempDir())
	t.Setenv("LAB_TO_PROD_NODE_STATE", state)
	if _, err := nodeToolsFromEnv(); err != nil {
		t.Fatalf("with today's need (%d bytes): %v", nodeRunsNeedBytes, err)
	}
	space, err := diskSpaceOf(state)
	if err != nil {
		t.Fatal(err)
	}
	saved := nodeRunsNeedBytes
	defer func() { nodeRunsNeedBytes = saved }()
	nodeRunsNeedBytes = space.size
	if _, err := nodeToolsFromEnv(); err == nil || !strings.Contains(err.Error(), "not enough free disk") ||
		!strings.Contains(err.Error(), state) {
		t.Fatalf("a need of the whole file system: %v", err)
	}
}
