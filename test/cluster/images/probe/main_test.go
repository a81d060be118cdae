package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// server answers "/" with 200 and a body, "/broken" with 500; loopback only.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("hello from the test server\n"))
	}))
	t.Cleanup(s.Close)
	return s
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func probe(args ...string) (int, string, string) {
	var out, errs bytes.Buffer
	code := run(args, &out, &errs)
	return code, out.String(), errs.String()
}

func TestHTTPPrintsStatusAndBody(t *testing.T) {
	s := server(t)
	code, out, _ := probe("http", s.URL+"/")
	if code != exitOK || out != "status 200\nhello from the test server\n" {
		t.Fatalf("got %d %q", code, out)
	}
	code, out, _ = probe("http", s.URL+"/broken")
	if code != exitBadNews || !strings.HasPrefix(out, "status 500\n") {
		t.Fatalf("a 500 must exit %d, got %d %q", exitBadNews, code, out)
	}
}

func TestNoAnswerExits2(t *testing.T) {
	addr := closedPort(t)
	if code, _, errs := probe("-timeout", "2s", "http", "http://"+addr+"/"); code != exitNoReply || errs == "" {
		t.Fatalf("http to a closed port: got %d %q", code, errs)
	}
	if code, _, errs := probe("-timeout", "2s", "tcp", addr); code != exitNoReply || !strings.Contains(errs, "refused") {
		t.Fatalf("tcp to a closed port: got %d %q", code, errs)
	}
}

func TestTCPConnects(t *testing.T) {
	s := server(t)
	code, out, _ := probe("tcp", s.Listener.Addr().String())
	if code != exitOK || !strings.HasPrefix(out, "connected ") {
		t.Fatalf("got %d %q", code, out)
	}
}

func TestDNSResolvesLocalhostFromHostsFile(t *testing.T) {
	code, out, errs := probe("dns", "localhost")
	if code != exitOK || !strings.Contains(out, "127.0.0.1") {
		t.Fatalf("got %d %q %q", code, out, errs)
	}
}

func TestLoopCountsSuccessesAndFailures(t *testing.T) {
	s := server(t)
	code, out, _ := probe("loop", s.URL+"/", "3", "1ms")
	if code != exitOK || out != "ok 3 failed 0\n" {
		t.Fatalf("got %d %q", code, out)
	}
	code, out, _ = probe("loop", s.URL+"/broken", "2", "0s")
	want := "failure 1: status 500\nfailure 2: status 500\nok 0 failed 2\n"
	if code != exitBadNews || out != want {
		t.Fatalf("got %d %q, want %q", code, out, want)
	}
}

func TestBadCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"http"},
		{"tcp", "a", "b"},
		{"loop", "http://127.0.0.1/", "0", "1s"},
		{"loop", "http://127.0.0.1/", "10001", "1s"},
		{"loop", "http://127.0.0.1/", "2", "soon"},
		{"-timeout", "0s", "tcp", "127.0.0.1:1"},
	} {
		if code, _, errs := probe(args...); code != exitUsage || errs == "" {
			t.Errorf("%q: got %d %q, want %d with a message", args, code, errs, exitUsage)
		}
	}
}
