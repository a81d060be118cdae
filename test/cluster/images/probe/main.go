// probe is the client the real-node tests run inside the cluster (with
// kubectl exec or as a pod's command). Every subcommand is bounded in time,
// prints what it saw, and says by its exit code what happened:
//
//	0  the check passed
//	1  an answer came but it was not a success (an HTTP status of 400 or more)
//	2  no answer: refused, timed out, name not found
//	64 the command line was wrong
//
// Subcommands:
//
//	probe [-timeout 5s] [-family 4|6] http URL               GET URL; print the status line and the body
//	probe [-timeout 5s] tcp HOST:PORT           open a TCP connection and close it
//	probe [-timeout 5s] dns NAME                resolve A and AAAA through /etc/resolv.conf
//	probe [-timeout 5s] loop URL COUNT INTERVAL GET URL COUNT times; print ok/failed counts
//	probe wait                                  block until SIGTERM or SIGINT (a pod to exec into)
//
// -family 4 (or 6) makes http and tcp connect over that IP family only.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const (
	exitOK      = 0
	exitBadNews = 1
	exitNoReply = 2
	exitUsage   = 64

	// Caps that keep a loop bounded whatever the test asks for.
	maxLoopCount    = 10000
	maxLoopDuration = 5 * time.Minute
	maxBodyBytes    = 1 << 20
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("probe", flag.ContinueOnError)
	flags.SetOutput(stderr)
	timeout := flags.Duration("timeout", 5*time.Second, "limit for one request, connection or lookup")
	family := flags.String("family", "", "connect over IPv4 (4) or IPv6 (6) only; both by default")
	if err := flags.Parse(args); err != nil {
		return exitUsage
	}
	switch *family {
	case "":
		network = "tcp"
	case "4", "6":
		network = "tcp" + *family
	default:
		fmt.Fprintf(stderr, "probe: -family %q: 4, 6 or empty\n", *family)
		return exitUsage
	}
	args = flags.Args()
	if len(args) == 0 || *timeout <= 0 {
		fmt.Fprintln(stderr, "usage: probe [-timeout 5s] [-family 4|6] http URL | tcp HOST:PORT | dns NAME | loop URL COUNT INTERVAL | wait")
		return exitUsage
	}
	sub, rest := args[0], args[1:]
	want := map[string]int{"http": 1, "tcp": 1, "dns": 1, "loop": 3, "wait": 0}
	n, known := want[sub]
	if !known || len(rest) != n {
		fmt.Fprintf(stderr, "probe: %q takes %d argument(s), got %q\n", sub, n, rest)
		return exitUsage
	}
	switch sub {
	case "http":
		return httpGet(rest[0], *timeout, stdout, stderr)
	case "tcp":
		return tcp(rest[0], *timeout, stdout, stderr)
	case "dns":
		return dns(rest[0], *timeout, stdout, stderr)
	case "loop":
		return loop(rest, *timeout, stdout, stderr)
	default:
		return wait(stderr)
	}
}

// network is what http and tcp connect over: "tcp" (either family), "tcp4" or "tcp6" (-family).
var network = "tcp"

func httpGet(url string, timeout time.Duration, stdout, stderr io.Writer) int {
	status, body, err := get(url, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "http %s: %v\n", url, err)
		return exitNoReply
	}
	fmt.Fprintf(stdout, "status %d\n%s", status, body)
	if status >= 400 {
		return exitBadNews
	}
	return exitOK
}

// get makes one request on a fresh connection (no keep-alive), so that
// every request of a loop is balanced anew by the Service.
func get(url string, timeout time.Duration) (int, []byte, error) {
	dialer := &net.Dialer{Timeout: timeout}
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			}},
	}
	resp, err := client.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return resp.StatusCode, body, fmt.Errorf("reading the body: %w", err)
	}
	return resp.StatusCode, body, nil
}

func tcp(addr string, timeout time.Duration, stdout, stderr io.Writer) int {
	conn, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "tcp %s: %v\n", addr, err)
		return exitNoReply
	}
	defer conn.Close()
	fmt.Fprintf(stdout, "connected %s -> %s\n", conn.LocalAddr(), conn.RemoteAddr())
	return exitOK
}

func dns(name string, timeout time.Duration, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The pure Go resolver (the binary is built without cgo) reads
	// /etc/resolv.conf: the pod's nameserver, search list and ndots.
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, name)
	if err != nil {
		fmt.Fprintf(stderr, "dns %s: %v\n", name, err)
		return exitNoReply
	}
	for _, a := range addrs {
		family := "A"
		if a.IP.To4() == nil {
			family = "AAAA"
		}
		fmt.Fprintf(stdout, "%s %s\n", family, a.IP)
	}
	return exitOK
}

func loop(args []string, timeout time.Duration, stdout, stderr io.Writer) int {
	url := args[0]
	count, err := strconv.Atoi(args[1])
	if err != nil || count < 1 || count > maxLoopCount {
		fmt.Fprintf(stderr, "probe loop: COUNT %q: want a whole number from 1 to %d\n", args[1], maxLoopCount)
		return exitUsage
	}
	interval, err := time.ParseDuration(args[2])
	if err != nil || interval < 0 {
		fmt.Fprintf(stderr, "probe loop: INTERVAL %q: want a duration such as 100ms\n", args[2])
		return exitUsage
	}
	deadline := time.Now().Add(maxLoopDuration)
	ok, failed := 0, 0
	for i := 1; i <= count; i++ {
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "probe loop: stopped after %v (the cap), %d of %d requests made\n", maxLoopDuration, i-1, count)
			break
		}
		status, _, err := get(url, timeout)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "failure %d: %v\n", i, err)
		case status >= 400:
			failed++
			fmt.Fprintf(stdout, "failure %d: status %d\n", i, status)
		default:
			ok++
		}
		if i < count {
			time.Sleep(interval)
		}
	}
	fmt.Fprintf(stdout, "ok %d failed %d\n", ok, failed)
	if failed > 0 || ok == 0 {
		return exitBadNews
	}
	return exitOK
}

func wait(stderr io.Writer) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	sig := <-signals
	fmt.Fprintf(stderr, "probe wait: %v\n", sig)
	return exitOK
}
