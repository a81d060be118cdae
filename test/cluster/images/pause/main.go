// pause holds a pod's namespaces open: it does nothing until SIGINT or
// SIGTERM, and reaps any child that is handed to it as PID 1. This is the
// behaviour of the upstream pause program (kubernetes build/pause/linux/pause.c,
// see FACTS.md), written anew in Go; "-v" prints a version line as upstream.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const version = "lab-to-prod stand-in for pause 3.10.1"

func main() {
	for _, arg := range os.Args[1:] {
		if strings.EqualFold(arg, "-v") {
			fmt.Println(version)
			return
		}
	}
	if os.Getpid() != 1 {
		// Upstream warns but carries on: pause is used outside pods too.
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}

	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", sig)
		os.Exit(0)
	}
}

// reap collects every child that has exited, without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
