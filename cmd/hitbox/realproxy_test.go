package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

// TestRealProxy builds and runs examples/proxy over a real Redis, sends
// it requests, and reads its admin listener with inspect --proxy and
// stats --proxy: the commands and the proxy agree on the JSON between
// them. It builds a binary, so -short skips it.
func TestRealProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds examples/proxy")
	}
	bin := filepath.Join(t.TempDir(), "proxy")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/proxy").CombinedOutput(); err != nil {
		t.Fatalf("building examples/proxy: %v\n%s", err, out)
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Surrogate-Key", "docs")
		fmt.Fprint(w, "page")
	}))
	defer origin.Close()
	const token = "0123456789abcdef-real"
	raddr := redistest.Start(t).Addr
	cmd := exec.Command(bin, "-origin", origin.URL, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0",
		"-redis", raddr, "-quiet")
	cmd.Env = append(os.Environ(), "HITBOX_ADMIN_TOKEN="+token)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	var listen, admin string
	sc := bufio.NewScanner(stdout)
	for (listen == "" || admin == "") && sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "admin listening on "); ok {
			admin = a
		} else if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			listen = a
		}
	}
	if listen == "" || admin == "" {
		t.Fatalf("the proxy printed no addresses (%v)", sc.Err())
	}
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	// A response reaches the client before the proxy stores it, so the
	// next request may still find it missing: ask until it is a hit.
	requests := 0
	for hit := false; !hit; {
		if requests == 20 {
			t.Fatal("20 requests and no hit")
		}
		resp, err := c.Get("http://" + listen + "/page")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		requests++
		hit = strings.Contains(resp.Header.Get("Cache-Status"), "; hit")
	}
	r := hitboxCmd(t, "", "inspect", "--proxy", admin, "--token", token, "http://"+listen+"/page")
	if r.code != 0 {
		t.Fatalf("inspect --proxy: exit %d %s", r.code, r.err)
	}
	for _, want := range []string{"status   200, 4-byte body", "fresh for", `etag "v1"`, "level    tier.", "tags     docs"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("inspect --proxy lacks %q:\n%s", want, r.out)
		}
	}
	r = hitboxCmd(t, "", "stats", "--proxy", admin, "--token", token)
	if r.code != 0 || !strings.Contains(r.out, fmt.Sprintf("%d requests", requests)) || !strings.Contains(r.out, "hit 1") {
		t.Errorf("stats --proxy: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = hitboxCmd(t, "", "inspect", "--proxy", admin, "http://"+listen+"/page")
	if r.code != 1 || !strings.Contains(r.err, "refused the admin token") {
		t.Errorf("inspect --proxy without the token: exit %d %s", r.code, r.err)
	}
}

// TestHelp asks for help every way a user may: each prints the usage and
// exits 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}, {"--prefix", "p:", "--help"}, {"keys", "--help"}} {
		r := hitboxCmd(t, "", args...)
		if r.code != 0 || !strings.Contains(r.out, "usage: hitbox") {
			t.Errorf("hitbox %q: exit %d\n%s%s", args, r.code, r.out, r.err)
		}
	}
}
