// Package ext stands in for Traefik's nested module
// github.com/traefik/traefik/dynamic/ext, which Traefik's go.mod replaces with
// its own folder pkg/config/dynamic/ext. A nested module is left out of its
// parent's module zip, so the Go module proxy cannot serve it; see
// ../../../traefik/FACTS.md. The open-source build has two empty extension
// points, embedded inline in dynamic.HTTP and dynamic.Router.
package ext

// HTTP is embedded in Traefik's dynamic.HTTP; empty in the open-source build.
type HTTP struct{}

// Router is embedded in Traefik's dynamic.Router; empty in the open-source build.
type Router struct{}
