// imagepack turns one layer tarball into a single-layer image tarball with
// the given image config, using go-containerregistry (the library crane is
// built on) at the version go.mod pins.
//
// crane itself can append a layer and mutate a config, but `crane mutate`
// reads from a registry and has no flag for the stop signal, which the
// upstream nginx and postgres images set (STOPSIGNAL). This small program
// sets every field in one step and writes the tarball `crane push` reads.
//
//	imagepack -layer rootfs.tar -ref docker.io/library/busybox:1.37.0 -out busybox.tar \
//	  -cmd '["sh"]' -env PATH=/bin -port 8080/tcp -label k=v -stop-signal SIGQUIT
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "imagepack:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		layerPath                   = flag.String("layer", "", "uncompressed tar of the root filesystem (required)")
		ref                         = flag.String("ref", "", "image reference written into the tarball (required)")
		out                         = flag.String("out", "", "image tarball to write (required)")
		entrypoint                  = flag.String("entrypoint", "", "entrypoint as a JSON array; empty leaves it unset")
		cmd                         = flag.String("cmd", "", "cmd as a JSON array; empty leaves it unset")
		user                        = flag.String("user", "", "user[:group]")
		workdir                     = flag.String("workdir", "", "working directory")
		stopSignal                  = flag.String("stop-signal", "", "signal that stops the container, e.g. SIGQUIT")
		history                     = flag.String("history", "", "one history line saying how the layer was made")
		env, ports, labels, volumes list
	)
	flag.Var(&env, "env", "NAME=value (repeatable, kept in order)")
	flag.Var(&ports, "port", "exposed port, e.g. 8080/tcp (repeatable)")
	flag.Var(&labels, "label", "key=value (repeatable)")
	flag.Var(&volumes, "volume", "declared volume path (repeatable)")
	flag.Parse()
	if *layerPath == "" || *ref == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		return fmt.Errorf("-layer, -ref and -out are required and no other arguments are taken")
	}
	tag, err := name.NewTag(*ref)
	if err != nil {
		return fmt.Errorf("-ref %q: %w", *ref, err)
	}

	layer, err := tarball.LayerFromFile(*layerPath)
	if err != nil {
		return fmt.Errorf("reading layer %s: %w", *layerPath, err)
	}
	// The Unix epoch everywhere: the same inputs give the same digests on
	// every machine and every day.
	epoch := v1.Time{Time: time.Unix(0, 0).UTC()}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: epoch, CreatedBy: *history},
	})
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture = "amd64"
	cf.OS = "linux"
	cf.Created = epoch
	c := &cf.Config
	if c.Entrypoint, err = jsonList("entrypoint", *entrypoint); err != nil {
		return err
	}
	if c.Cmd, err = jsonList("cmd", *cmd); err != nil {
		return err
	}
	c.User = *user
	c.WorkingDir = *workdir
	c.StopSignal = *stopSignal
	c.Env = env
	c.ExposedPorts = set(ports)
	c.Volumes = set(volumes)
	if len(labels) > 0 {
		c.Labels = map[string]string{}
		for _, kv := range labels {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("-label %q: want key=value", kv)
			}
			c.Labels[k] = v
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(*out, tag, img)
}

func jsonList(flagName, value string) ([]string, error) {
	if value == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(value), &out); err != nil {
		return nil, fmt.Errorf("-%s %q: want a JSON array of strings: %w", flagName, value, err)
	}
	return out, nil
}

func set(items []string) map[string]struct{} {
	if len(items) == 0 {
		return nil
	}
	sort.Strings(items)
	out := map[string]struct{}{}
	for _, it := range items {
		out[it] = struct{}{}
	}
	return out
}
