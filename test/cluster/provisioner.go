package cluster

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// volumeProvisioner stands in for the storage driver: no CSI driver runs in
// the test cluster, so it watches for claims that a driver would provision
// (a StorageClass with a provisioner; with WaitForFirstConsumer, once the
// scheduler has picked a node) and creates a matching PersistentVolume,
// pre-bound to the claim and pinned to that node. The PV controller in
// kube-controller-manager then binds them as it would a real volume.
type volumeProvisioner struct {
	api  *apiClient
	stop chan struct{}
	done chan struct{}

	mu          sync.Mutex
	provisioned map[string]bool
	lastErr     error

	// hostPathRoot, with a real node, is where each volume's folder is made, as the lab's
	// local-path provisioner makes one per claim on the node (mode 0777, as its default setup
	// script does, so any pod user can write). Empty with kwok: nothing is ever mounted.
	hostPathRoot string
}

func startVolumeProvisioner(api *apiClient) *volumeProvisioner {
	return startVolumeProvisionerAt(api, "")
}

func startVolumeProvisionerAt(api *apiClient, hostPathRoot string) *volumeProvisioner {
	p := &volumeProvisioner{api: api, stop: make(chan struct{}), done: make(chan struct{}), provisioned: map[string]bool{}, hostPathRoot: hostPathRoot}
	go func() {
		defer close(p.done)
		for {
			err := p.once()
			p.mu.Lock()
			p.lastErr = err
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return p
}

func (p *volumeProvisioner) shutdown() {
	close(p.stop)
	<-p.done
}

func (p *volumeProvisioner) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.provisioned)
}

func (p *volumeProvisioner) err() error {
	if p == nil {
		return nil // no stand-in: the cluster's own provisioner (the three-node lab's local-path)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

func (p *volumeProvisioner) once() error {
	var claims objectList
	if err := p.api.getJSON("/api/v1/persistentvolumeclaims", &claims); err != nil {
		return err
	}
	for _, claim := range claims.Items {
		if stringField(claim.Status, "phase") != "Pending" || stringField(claim.Spec, "volumeName") != "" {
			continue
		}
		className := stringField(claim.Spec, "storageClassName")
		if className == "" {
			continue // asks for no class: only a hand-made PV would do
		}
		var class object
		if err := p.api.getJSON("/apis/storage.k8s.io/v1/storageclasses/"+url.PathEscape(className), &class); err != nil {
			continue // class not there (yet): a real cluster would leave the claim Pending too
		}
		provisioner, _ := class.Raw["provisioner"].(string)
		if provisioner == "" || provisioner == "kubernetes.io/no-provisioner" {
			continue
		}
		node := claim.Metadata.Annotations["volume.kubernetes.io/selected-node"]
		if class.Raw["volumeBindingMode"] == "WaitForFirstConsumer" && node == "" {
			continue // the scheduler has not chosen a node yet
		}
		if err := p.create(claim, class, provisioner, node); err != nil {
			return err
		}
	}
	return nil
}

func (p *volumeProvisioner) create(claim, class object, provisioner, node string) error {
	name := "pvc-" + claim.Metadata.UID
	p.mu.Lock()
	already := p.provisioned[name]
	p.mu.Unlock()
	if already {
		return nil // created; the PV controller has not bound it yet
	}
	reclaim, _ := class.Raw["reclaimPolicy"].(string)
	if reclaim == "" {
		reclaim = "Delete"
	}
	spec := map[string]any{
		"capacity":                      map[string]any{"storage": field(claim.Spec, "resources", "requests", "storage")},
		"accessModes":                   claim.Spec["accessModes"],
		"storageClassName":              class.Metadata.Name,
		"persistentVolumeReclaimPolicy": reclaim,
		"claimRef": map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolumeClaim",
			"namespace": claim.Metadata.Namespace, "name": claim.Metadata.Name, "uid": claim.Metadata.UID,
		},
		// Never mounted: kwok runs no containers.
		"hostPath": map[string]any{"path": "/nonexistent/" + name},
	}
	if p.hostPathRoot != "" {
		dir := filepath.Join(p.hostPathRoot, name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o777); err != nil { // past the umask
			return err
		}
		spec["hostPath"] = map[string]any{"path": dir, "type": "Directory"}
	}
	if mode, ok := claim.Spec["volumeMode"]; ok {
		spec["volumeMode"] = mode
	}
	if node != "" {
		spec["nodeAffinity"] = map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{
			map[string]any{"matchExpressions": []any{map[string]any{
				"key": "kubernetes.io/hostname", "operator": "In", "values": []string{node},
			}}},
		}}}
	}
	pv := map[string]any{
		"apiVersion": "v1",
		"kind":       "PersistentVolume",
		"metadata": map[string]any{
			"name":        name,
			"annotations": map[string]string{"pv.kubernetes.io/provisioned-by": provisioner},
		},
		"spec": spec,
	}
	if err := p.api.create("/api/v1/persistentvolumes", pv); err != nil {
		return fmt.Errorf("provisioning a volume for %s: %w", claim.ref(), err)
	}
	p.mu.Lock()
	p.provisioned[name] = true
	p.mu.Unlock()
	return nil
}
