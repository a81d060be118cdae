package cluster

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// apiClient talks to the API server directly for what the harness itself
// does (nodes, the volume provisioner, reading status). Everything a user
// does goes through the real kubectl instead.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base, caFile, certFile, keyFile string) (*apiClient, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &apiClient{base: base, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}},
	}}, nil
}

func (c *apiClient) do(method, path string, body any) (int, []byte, error) {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c *apiClient) get(path string) (int, []byte, error) { return c.do(http.MethodGet, path, nil) }

// getJSON reads path into out; anything but 200 is an error.
func (c *apiClient) getJSON(path string, out any) error {
	status, b, err := c.get(path)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, status, b)
	}
	return json.Unmarshal(b, out)
}

// create POSTs obj to path; an object that already exists is not an error.
func (c *apiClient) create(path string, obj any) error {
	status, b, err := c.do(http.MethodPost, path, obj)
	if err != nil {
		return err
	}
	if status != http.StatusCreated && status != http.StatusOK && status != http.StatusConflict {
		return fmt.Errorf("POST %s: %d %s", path, status, b)
	}
	return nil
}

// object is the generic shape the checks read: enough of metadata, spec and
// status of any kind, decoded loosely.
type object struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   objectMeta     `json:"metadata"`
	Spec       map[string]any `json:"spec"`
	Status     map[string]any `json:"status"`
	// Raw is the whole object, for the few kinds with top-level fields
	// besides spec and status (RuntimeClass, StorageClass, ConfigMap, ...).
	Raw map[string]any `json:"-"`
}

func (o *object) UnmarshalJSON(b []byte) error {
	type plain object // without this method, so no recursion
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*o = object(p)
	return json.Unmarshal(b, &o.Raw)
}

type objectMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	Generation        int64             `json:"generation,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	DeletionTimestamp *string           `json:"deletionTimestamp,omitempty"`
	OwnerReferences   []struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"ownerReferences,omitempty"`
}

type objectList struct {
	Items []object `json:"items"`
}

// ref names an object the way kubectl prints it: Kind namespace/name.
func (o object) ref() string {
	if o.Metadata.Namespace == "" {
		return o.Kind + " " + o.Metadata.Name
	}
	return o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
}

// field walks nested maps: field(m, "a", "b") is m["a"]["b"].
func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func intField(m map[string]any, path ...string) int64 {
	if f, ok := field(m, path...).(float64); ok {
		return int64(f)
	}
	return 0
}

func stringField(m map[string]any, path ...string) string {
	s, _ := field(m, path...).(string)
	return s
}

// condition returns the status of the condition of type t ("True",
// "False", "Unknown") or "" when the object has none.
func condition(o object, t string) string {
	conds, _ := o.Status["conditions"].([]any)
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["type"] == t {
			s, _ := cm["status"].(string)
			return s
		}
	}
	return ""
}
