package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/memstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, c *http.Client, method, url, body string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// isHit reports whether this cache's Cache-Status member (the last: RFC
// 9211 §2) says hit.
func isHit(h http.Header) bool {
	members := strings.Split(strings.Join(h.Values("Cache-Status"), ","), ",")
	for _, p := range strings.Split(members[len(members)-1], ";") {
		if strings.TrimSpace(p) == "hit" {
			return true
		}
	}
	return false
}

// TestRouter checks which routes the cache serves and which it leaves to
// their handlers, in order: each step sees what the previous ones stored.
func TestRouter(t *testing.T) {
	store, err := memstore.New(memstore.Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cache := httpcache.New(store, httpcache.Options{})
	defer cache.Close()
	a := newArticles()
	srv := httptest.NewServer(newRouter(cache, a))
	defer srv.Close()
	c := srv.Client()

	steps := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
		wantHit    bool
		wantReads  int // reads that reached the articles handler so far
		noCache    bool
	}{
		{"the first read of an article is a miss", "GET", "/articles/1", "", 200, "Caching is hard.\n", false, 1, false},
		{"the second is served from the cache", "GET", "/articles/1", "", 200, "Caching is hard.\n", true, 1, false},
		{"another article is its own entry", "GET", "/articles/2", "", 200, "Invalidation is harder.\n", false, 2, false},
		{"a PUT passes through the middleware to its handler", "PUT", "/articles/1", "Rewritten.", 204, "", false, 2, false},
		{"and invalidated the article (RFC 9111 §4.4)", "GET", "/articles/1", "", 200, "Rewritten.\n", false, 3, false},
		{"which is cached again", "GET", "/articles/1", "", 200, "Rewritten.\n", true, 3, false},
		{"the untouched article is still cached", "GET", "/articles/2", "", 200, "Invalidation is harder.\n", true, 3, false},
		{"a 404 with max-age is stored", "GET", "/articles/9", "", 404, "404 page not found\n", false, 4, false},
		{"and served from the cache", "GET", "/articles/9", "", 404, "404 page not found\n", true, 4, false},
		{"static files are cached", "GET", "/static/app.js", "", 200, "static file app.js\n", false, 4, false},
		{"static files are hits the second time", "GET", "/static/app.js", "", 200, "static file app.js\n", true, 4, false},
		{"the clock route has no cache in front of it", "GET", "/now", "", 200, "", false, 4, true},
	}
	for _, s := range steps {
		status, hdr, body := get(t, c, s.method, srv.URL+s.path, s.body)
		if status != s.wantStatus {
			t.Errorf("%s: %s %s: status %d, want %d", s.name, s.method, s.path, status, s.wantStatus)
		}
		if s.wantBody != "" && body != s.wantBody {
			t.Errorf("%s: body %q, want %q", s.name, body, s.wantBody)
		}
		if isHit(hdr) != s.wantHit {
			t.Errorf("%s: Cache-Status %q, want hit=%v", s.name, hdr.Get("Cache-Status"), s.wantHit)
		}
		if s.noCache && hdr.Get("Cache-Status") != "" {
			t.Errorf("%s: Cache-Status %q on a route without the middleware", s.name, hdr.Get("Cache-Status"))
		}
		a.mu.Lock()
		reads := a.reads
		a.mu.Unlock()
		if reads != s.wantReads {
			t.Errorf("%s: %d reads reached the handler, want %d", s.name, reads, s.wantReads)
		}
	}
}

// TestRun starts the program on a free port, over memory alone and over
// memory and a real Redis when redis-server is installed, reads an article
// twice, and shuts it down.
func TestRun(t *testing.T) {
	for _, withRedis := range []bool{false, true} {
		name := "memory"
		if withRedis {
			name = "memory over redis"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"-addr", "127.0.0.1:0"}
			if withRedis {
				srv := redistest.Start(t) // skips without redis-server
				args = append(args, "-redis", srv.Addr)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				err := run(ctx, args, pw, io.Discard)
				_ = pw.Close()
				done <- err
			}()
			sc := bufio.NewScanner(pr)
			if !sc.Scan() {
				t.Fatalf("run: %v", <-done)
			}
			addr, ok := strings.CutPrefix(sc.Text(), "listening on ")
			if !ok {
				t.Fatalf("first line %q, want listening on ADDR", sc.Text())
			}
			go func() { _, _ = io.Copy(io.Discard, pr) }()

			c := &http.Client{Transport: &http.Transport{}}
			for i, wantHit := range []bool{false, true} {
				status, hdr, body := get(t, c, "GET", "http://"+addr+"/articles/2", "")
				if status != 200 || body != "Invalidation is harder.\n" || isHit(hdr) != wantHit {
					t.Errorf("read %d: %d %q, Cache-Status %q; want 200, hit=%v", i+1, status, body, hdr.Get("Cache-Status"), wantHit)
				}
			}
			c.CloseIdleConnections()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
}
