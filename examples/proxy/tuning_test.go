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
		{"the default (auto) applies", nil, true},
		{"off applies", []string{"-memory-limit", "off"}, true},
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
			stop, err := tu.apply(io.Discard, 8<<20)
			defer stop()
			if (err == nil) != tc.ok {
				t.Fatalf("apply(%q) = %v, want ok %v", tc.args, err, tc.ok)
			}
		})
	}
}

// TestMemoryLimit: what -memory-limit sets for a 256 MiB cache, by the
// flag and the environment.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	const mem = 256 << 20
	for _, tc := range []struct {
		name  string
		flag  string
		env   map[string]string
		limit int64
		gogc  int
		ok    bool
	}{
		{"auto is twice the cache and 64 MiB, with GOGC 400", "auto", nil, 2*mem + 64<<20, 400, true},
		{"auto leaves GOGC alone when it is set", "auto", map[string]string{"GOGC": "200"}, 2*mem + 64<<20, 0, true},
		{"auto leaves the runtime alone when GOMEMLIMIT is set", "auto", map[string]string{"GOMEMLIMIT": "1GiB"}, 0, 0, true},
		{"a size is the limit", "1GiB", nil, 1 << 30, 400, true},
		{"a size with GOGC set keeps GOGC", "1GiB", map[string]string{"GOGC": "off"}, 1 << 30, 0, true},
		{"off sets nothing", "off", nil, 0, 0, true},
		{"a size needs a number", "lots", nil, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			limit, gogc, err := memoryLimit(tc.flag, mem, getenv)
			if (err == nil) != tc.ok || limit != tc.limit || gogc != tc.gogc {
				t.Fatalf("memoryLimit(%q) = %d, %d, %v; want %d, %d, ok %v", tc.flag, limit, gogc, err, tc.limit, tc.gogc, tc.ok)
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
	stop, err := tu.apply(&out, 8<<20)
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
