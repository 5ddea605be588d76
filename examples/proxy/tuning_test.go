package main

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTuningFlags: the tuning flags parse with the rest, and apply refuses
// what it cannot use before touching the process.
func TestTuningFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"no tuning is the default", nil, true},
		{"a memory limit needs a size", []string{"-memory-limit", "lots"}, false},
		{"the pprof listener needs an address it can listen on", []string{"-pprof", "not-an-address"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			tu := tuningFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			stop, err := tu.apply(io.Discard)
			defer stop()
			if (err == nil) != tc.ok {
				t.Fatalf("apply(%q) = %v, want ok %v", tc.args, err, tc.ok)
			}
		})
	}
}

// TestPprofListener: -pprof serves the profile index on its own listener,
// says where, and the stop function closes it (goleak checks the goroutine).
func TestPprofListener(t *testing.T) {
	t.Parallel()
	tu := &tuning{pprof: "127.0.0.1:0"}
	var out bytes.Buffer
	stop, err := tu.apply(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	addr, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "pprof listening on ")
	if !ok {
		t.Fatalf("stdout %q, want the pprof address", out.String())
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("goroutine")) {
		t.Fatalf("GET /debug/pprof/: %d %.80q, want the profile index", resp.StatusCode, body)
	}
}
