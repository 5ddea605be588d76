package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testToken is the admin token the tests' proxies run with.
const testToken = "test-token-0123456789"

// origin is a scripted origin server on loopback: it counts the requests
// each path gets and remembers the Via lines it was sent.
type origin struct {
	// release lets /stream finish; nil for tests that do not use it.
	release chan struct{}

	mu      sync.Mutex
	version int
	calls   map[string]int
	via     []string
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.calls[r.Method+" "+r.URL.Path]++
	n := o.calls[r.Method+" "+r.URL.Path]
	o.via = append(o.via, r.Header.Values("Via")...)
	version := o.version
	if r.Method == http.MethodPut && r.URL.Path == "/item" {
		o.version++
	}
	o.mu.Unlock()

	switch {
	case r.URL.Path == "/item" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, version))
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprintf(w, "item v%d", version)
	case r.URL.Path == "/item" && r.Method == http.MethodPut:
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/aged":
		// A cache nearer the origin held it for 30 seconds already.
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Age", "30")
		_, _ = io.WriteString(w, "aged")
	case r.URL.Path == "/flaky":
		// Stale at once, but usable for ten minutes when the origin fails
		// (RFC 5861 §4); every call after the first fails.
		if n > 1 {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "max-age=0, stale-if-error=600")
		w.Header().Set("ETag", `"f"`)
		_, _ = io.WriteString(w, "flaky ok")
	case r.URL.Path == "/drop":
		// Every call after the first drops the connection unanswered: the
		// origin is unreachable, and the response may be served stale.
		if n > 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("Cache-Control", "max-age=0, stale-if-error=600")
		_, _ = io.WriteString(w, "drop ok")
	case r.URL.Path == "/interim":
		// An early hint before the final response (RFC 9110 §15.2).
		w.Header().Set("Link", "</styles.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, "final")
	case r.URL.Path == "/swr":
		// Stale at once, served stale while a background request
		// refreshes it (RFC 5861 §3).
		w.Header().Set("Cache-Control", "max-age=0, stale-while-revalidate=600")
		_, _ = fmt.Fprintf(w, "swr %d", n)
	case r.URL.Path == "/etag":
		// Stale at once, revalidated each time (RFC 9111 §4.3).
		w.Header().Set("Cache-Control", "max-age=0")
		w.Header().Set("ETag", `"e1"`)
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "etag body")
	case r.URL.Path == "/stream":
		// The first part, then the rest once the test allows it.
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, "first,")
		_ = http.NewResponseController(w).Flush()
		<-o.release
		_, _ = io.WriteString(w, "rest")
	case r.URL.Path == "/echo" && r.Method == http.MethodPost:
		w.Header().Set("X-Echo-Header", r.Header.Get("X-Custom"))
		_, _ = io.Copy(w, r.Body)
	case r.URL.Path == "/move" && r.Method == http.MethodPost:
		// Names /item by an absolute URL on the origin, as origins do.
		o.mu.Lock()
		o.version++
		o.mu.Unlock()
		w.Header().Set("Location", "http://"+r.Host+"/item")
		w.WriteHeader(http.StatusCreated)
	case r.URL.Path == "/tagged":
		// Tags for the cache to purge by (surrogate keys, as CDNs read them).
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Surrogate-Key", "product-7 list")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprintf(w, "tagged %d", n)
	case r.URL.Path == "/private":
		w.Header().Set("Cache-Control", "private, max-age=300")
		_, _ = fmt.Fprintf(w, "private %d", n)
	default:
		http.NotFound(w, r)
	}
}

func (o *origin) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[key]
}

// addrs collects the addresses run prints to stdout.
type addrs struct {
	w    *io.PipeWriter
	main chan string
	adm  chan string
}

func newAddrs() *addrs {
	r, w := io.Pipe()
	a := &addrs{w: w, main: make(chan string, 1), adm: make(chan string, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "listening on "):
				a.main <- strings.TrimPrefix(line, "listening on ")
			case strings.HasPrefix(line, "admin listening on "):
				a.adm <- strings.TrimPrefix(line, "admin listening on ")
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return a
}

// startProxy runs the proxy in-process on free loopback ports and returns
// its base URL, its admin base URL, and a stop function that shuts it down
// and returns run's error.
func startProxy(t *testing.T, originURL string, extra ...string) (base, admin string, stop func() error) {
	t.Helper()
	return startProxyLogging(t, io.Discard, originURL, extra...)
}

// startProxyLogging is startProxy with the proxy's log written to stderr
// and each request logged.
func startProxyLogging(t *testing.T, stderr io.Writer, originURL string, extra ...string) (base, admin string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := newAddrs()
	args := []string{"-origin", originURL, "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-admin-token", testToken, "-memory", "8MiB"}
	if stderr == io.Discard {
		args = append(args, "-quiet")
	}
	args = append(args, extra...)
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, a.w, stderr)
		_ = a.w.Close()
		done <- err
	}()
	select {
	case base = <-a.main:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	}
	admin = <-a.adm
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + base, "http://" + admin, stop
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, url string, body string, hdr ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return result{resp.StatusCode, resp.Header, string(b)}
}

// hit reports whether the proxy's Cache-Status member (the last: RFC 9211
// §2) says hit.
func hit(r result) bool {
	members := strings.Split(strings.Join(r.header.Values("Cache-Status"), ","), ",")
	for _, p := range strings.Split(members[len(members)-1], ";") {
		if strings.TrimSpace(p) == "hit" {
			return true
		}
	}
	return false
}

// TestProxy runs the proxy against a real origin on loopback and checks
// what clients see: misses and hits by Cache-Status, Age, bodies, Via,
// unsafe methods passing through and invalidating, stale-if-error, and
// the metrics on the admin listener; then that shutdown returns cleanly
// (TestMain checks that no goroutine is left).
func TestProxy(t *testing.T) {
	o := &origin{calls: map[string]int{}}
	srv := httptest.NewServer(o)
	defer srv.Close()
	base, admin, stop := startProxy(t, srv.URL)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()

	r := do(t, c, "GET", base+"/item", "")
	if r.status != 200 || r.body != "item v0" || hit(r) {
		t.Fatalf("first GET: %d %q, Cache-Status %q; want 200 \"item v0\", a miss", r.status, r.body, r.header.Get("Cache-Status"))
	}
	if cs := r.header.Get("Cache-Status"); !strings.Contains(cs, "fwd=uri-miss") || !strings.Contains(cs, "stored") {
		t.Errorf("first GET Cache-Status %q: want fwd=uri-miss and stored", cs)
	}
	if via := strings.Join(r.header.Values("Via"), ", "); !strings.Contains(via, "1.1 hitbox") {
		t.Errorf("response Via %q: want the proxy's 1.1 hitbox (RFC 9110 §7.6.3)", via)
	}

	r = do(t, c, "GET", base+"/item", "")
	if r.status != 200 || r.body != "item v0" || !hit(r) {
		t.Fatalf("second GET: %d %q, Cache-Status %q; want 200 \"item v0\" from the cache", r.status, r.body, r.header.Get("Cache-Status"))
	}
	if age, err := strconv.Atoi(r.header.Get("Age")); err != nil || age < 0 || age > 300 {
		t.Errorf("hit Age %q: want a small non-negative integer (RFC 9111 §4.2.3, §5.1)", r.header.Get("Age"))
	}
	if n := o.count("GET /item"); n != 1 {
		t.Errorf("origin saw %d GET /item, want 1", n)
	}

	r = do(t, c, "HEAD", base+"/item", "")
	if r.status != 200 || r.body != "" || !hit(r) {
		t.Errorf("HEAD: %d %q, Cache-Status %q; want a 200 without body from the stored GET", r.status, r.body, r.header.Get("Cache-Status"))
	}

	r = do(t, c, "GET", base+"/item", "", "If-None-Match", `"v0"`)
	if r.status != http.StatusNotModified || !hit(r) {
		t.Errorf("conditional GET: %d, Cache-Status %q; want 304 from the cache (RFC 9111 §4.3.2)", r.status, r.header.Get("Cache-Status"))
	}

	// A PUT passes through and invalidates (RFC 9111 §4.4).
	r = do(t, c, "PUT", base+"/item", "new")
	if r.status != http.StatusNoContent || hit(r) {
		t.Fatalf("PUT: %d, Cache-Status %q; want 204 from the origin", r.status, r.header.Get("Cache-Status"))
	}
	r = do(t, c, "GET", base+"/item", "")
	if r.status != 200 || r.body != "item v1" || hit(r) {
		t.Errorf("GET after PUT: %d %q, Cache-Status %q; want the origin's \"item v1\"", r.status, r.body, r.header.Get("Cache-Status"))
	}

	// A POST elsewhere whose Location names /item invalidates it too
	// (RFC 9111 §4.4): the proxy rewrote the origin's absolute URL to its
	// own address, which is the origin of the request.
	do(t, c, "GET", base+"/item", "")
	r = do(t, c, "POST", base+"/move", "x")
	if want := base + "/item"; r.status != http.StatusCreated || r.header.Get("Location") != want {
		t.Errorf("POST /move: %d, Location %q; want 201, %q", r.status, r.header.Get("Location"), want)
	}
	r = do(t, c, "GET", base+"/item", "")
	if r.body != "item v2" || hit(r) {
		t.Errorf("GET after POST with Location: %q, Cache-Status %q; want the origin's \"item v2\"", r.body, r.header.Get("Cache-Status"))
	}

	// A stale response is revalidated through the proxy: the origin's 304
	// freshens it and the stored body is served (RFC 9111 §4.3.3, §4.3.4).
	do(t, c, "GET", base+"/etag", "")
	r = do(t, c, "GET", base+"/etag", "")
	if cs := r.header.Get("Cache-Status"); r.status != 200 || r.body != "etag body" || !strings.Contains(cs, "fwd-status=304") {
		t.Errorf("revalidation: %d %q, Cache-Status %q; want 200 \"etag body\" after a 304", r.status, r.body, cs)
	}

	// Age counts what the origin said (RFC 9111 §4.2.3).
	do(t, c, "GET", base+"/aged", "")
	r = do(t, c, "GET", base+"/aged", "")
	if age, err := strconv.Atoi(r.header.Get("Age")); !hit(r) || err != nil || age < 30 {
		t.Errorf("aged hit: Age %q, Cache-Status %q; want a hit with Age >= 30", r.header.Get("Age"), r.header.Get("Cache-Status"))
	}

	// A POST goes through with its body and header fields.
	r = do(t, c, "POST", base+"/echo", "hello", "X-Custom", "abc")
	if r.status != 200 || r.body != "hello" || r.header.Get("X-Echo-Header") != "abc" {
		t.Errorf("POST: %d %q, X-Echo-Header %q; want 200 \"hello\" abc", r.status, r.body, r.header.Get("X-Echo-Header"))
	}

	// A private response is not stored by a shared cache (RFC 9111 §5.2.2.7).
	do(t, c, "GET", base+"/private", "")
	if r = do(t, c, "GET", base+"/private", ""); r.body != "private 2" {
		t.Errorf("private: second GET %q, want the origin's \"private 2\"", r.body)
	}

	// The origin fails: the stored response is served stale (RFC 5861 §4).
	do(t, c, "GET", base+"/flaky", "")
	r = do(t, c, "GET", base+"/flaky", "")
	if r.status != 200 || r.body != "flaky ok" {
		t.Errorf("stale-if-error: %d %q, Cache-Status %q; want the stored 200", r.status, r.body, r.header.Get("Cache-Status"))
	}

	// The origin drops the connection: the proxy's 502 is replaced by the
	// stored response (RFC 5861 §4, RFC 9111 §4.2.4).
	do(t, c, "GET", base+"/drop", "")
	r = do(t, c, "GET", base+"/drop", "")
	if r.status != 200 || r.body != "drop ok" {
		t.Errorf("stale-if-error on a dropped connection: %d %q, Cache-Status %q; want the stored 200", r.status, r.body, r.header.Get("Cache-Status"))
	}

	// Served stale at once while refreshed in the background; shutdown
	// below waits for the refresh (TestMain checks no goroutine is left).
	do(t, c, "GET", base+"/swr", "")
	if r = do(t, c, "GET", base+"/swr", ""); r.status != 200 || r.body != "swr 1" {
		t.Errorf("stale-while-revalidate: %d %q, Cache-Status %q; want the stored \"swr 1\"", r.status, r.body, r.header.Get("Cache-Status"))
	}

	o.mu.Lock()
	via := strings.Join(o.via, ", ")
	o.mu.Unlock()
	if !strings.Contains(via, "1.1 hitbox") {
		t.Errorf("origin saw Via %q, want 1.1 hitbox", via)
	}

	r = do(t, c, "GET", admin+"/metrics", "")
	if r.status != 200 || !strings.Contains(r.body, "hitbox_operations_total") {
		t.Errorf("/metrics: %d, want 200 with hitbox_operations_total; got\n%.500s", r.status, r.body)
	}

	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestProxyOriginDown: with no origin listening, clients get 502 Bad
// Gateway, not a hang or a dropped connection.
func TestProxyOriginDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	base, _, stop := startProxy(t, url)
	c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	if r := do(t, c, "GET", base+"/", ""); r.status != http.StatusBadGateway {
		t.Errorf("origin down: %d, want 502", r.status)
	}
	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"an origin alone is enough", []string{"-origin", "http://127.0.0.1:8000"}, true},
		{"every flag", []string{"-origin", "https://example.test", "-listen", ":0", "-memory", "1GiB", "-redis", "127.0.0.1:6379", "-admin", ":0", "-admin-token", testToken, "-name", "edge-1",
			"-stale-if-error", "1m", "-stale-while-revalidate", "10s", "-store-set-cookie", "-forward-cdn-cache-control", "-origin-timeout", "5s", "-header-timeout", "5s", "-shutdown-timeout", "1s", "-quiet"}, true},
		{"negative durations are refused", []string{"-origin", "http://x", "-stale-if-error", "-1s"}, false},
		{"the origin is required", nil, false},
		{"the origin must be an http URL", []string{"-origin", "ftp://x"}, false},
		{"the origin needs a host", []string{"-origin", "http://"}, false},
		{"a size needs a number", []string{"-origin", "http://x", "-memory", "lots"}, false},
		{"memstore needs at least 1 MiB", []string{"-origin", "http://x", "-memory", "512KiB"}, false},
		{"the name goes in Via and Cache-Status, so it is a token", []string{"-origin", "http://x", "-name", "a b"}, false},
		{"the name starts with a letter (an sf-token)", []string{"-origin", "http://x", "-name", "1st"}, false},
		{"stray arguments are refused", []string{"-origin", "http://x", "extra"}, false},
		{"the admin listener serves purges, so it refuses to start without a token", []string{"-origin", "http://x", "-admin", ":0"}, false},
		{"an admin token under 16 characters is refused", []string{"-origin", "http://x", "-admin", ":0", "-admin-token", "short"}, false},
		{"a token without -admin is unused, and no error", []string{"-origin", "http://x", "-admin-token", "short"}, true},
		{"-strip-fields takes field names", []string{"-origin", "http://x", "-strip-fields", "X-Original-URL, X-Custom-Rewrite"}, true},
		{"an empty -strip-fields keeps every field", []string{"-origin", "http://x", "-strip-fields", ""}, true},
		{"-strip-fields refuses what is not a field name", []string{"-origin", "http://x", "-strip-fields", "X-A, X B"}, false},
	}
	t.Setenv(tokenEnv, "") // the environment of whoever runs the tests does not count
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if (err == nil) != tt.ok {
				t.Errorf("parseFlags(%q) error %v, want ok=%v", tt.args, err, tt.ok)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"256MiB", 256 << 20},
		{"1GiB", 1 << 30},
		{"64 KiB", 64 << 10},
		{"2m", 2 << 20},
		{"10MB", 10e6},
		{"1048576", 1 << 20},
		{"0", 0},
		{"-1MiB", 0},
		{"MiB", 0},
		{"99999999999GiB", 0},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if tt.want == 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestOpenStorage: every size the flag accepts makes a memory store, with
// room for responses of up to 8 MiB once the store is big enough.
func TestOpenStorage(t *testing.T) {
	for _, tt := range []struct {
		size    int64
		atLeast int64
	}{
		{1 << 20, 256 << 10},
		{3<<20 + 12345, 1 << 20},
		{64 << 20, 8<<20 - 1024},
		{256 << 20, 8<<20 - 1024},
		{8 << 30, 8<<20 - 1024},
	} {
		st, err := openStorage(context.Background(), tt.size, "")
		if err != nil {
			t.Errorf("openStorage(%d): %v", tt.size, err)
			continue
		}
		if st.maxValue < tt.atLeast || st.maxValue > 8<<20 {
			t.Errorf("openStorage(%d): largest value %d, want %d to 8 MiB", tt.size, st.maxValue, tt.atLeast)
		}
		if err := st.close(); err != nil {
			t.Error(err)
		}
	}
}

func TestViaEntry(t *testing.T) {
	for _, tt := range []struct {
		major, minor int
		want         string
	}{
		{1, 1, "1.1 hitbox"},
		{1, 0, "1.0 hitbox"},
		{2, 0, "2 hitbox"},
	} {
		if got := viaEntry(tt.major, tt.minor, "hitbox"); got != tt.want {
			t.Errorf("viaEntry(%d, %d) = %q, want %q", tt.major, tt.minor, got, tt.want)
		}
	}
}

// TestProxyRedis runs two proxies over one real Redis (skipped without
// redis-server): a response one of them stored is a hit for the other,
// read from the shared level. Clients name the site by one Host, as they
// would behind a load balancer: the key is the target URI.
func TestProxyRedis(t *testing.T) {
	rs := redistest.Start(t)
	o := &origin{calls: map[string]int{}}
	srv := httptest.NewServer(o)
	defer srv.Close()
	baseA, _, stopA := startProxy(t, srv.URL, "-redis", rs.Addr, "-name", "edge-a")
	baseB, _, stopB := startProxy(t, srv.URL, "-redis", rs.Addr, "-name", "edge-b")
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()

	const site = "www.example.test"
	if r := do(t, c, "GET", baseA+"/item", "", "Host", site); r.body != "item v0" || hit(r) {
		t.Fatalf("A: %q, Cache-Status %q; want a miss", r.body, r.header.Get("Cache-Status"))
	}
	// The cache stores a response after the client has read it. A second
	// request on the same keep-alive connection is only read once the
	// first's handler returned, so after it Redis has the response.
	if r := do(t, c, "GET", baseA+"/item", "", "Host", site); !hit(r) {
		t.Fatalf("A again: Cache-Status %q; want a hit", r.header.Get("Cache-Status"))
	}
	r := do(t, c, "GET", baseB+"/item", "", "Host", site)
	if r.body != "item v0" || !hit(r) {
		t.Errorf("B: %q, Cache-Status %q; want a hit from Redis", r.body, r.header.Get("Cache-Status"))
	}
	if n := o.count("GET /item"); n != 1 {
		t.Errorf("origin saw %d GET /item, want 1", n)
	}
	c.CloseIdleConnections()
	if err := errors.Join(stopA(), stopB()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// syncBuffer collects the log lines the proxy's goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProxyLogs: each request is logged through slog once answered, with
// method, path, status and Cache-Status.
func TestProxyLogs(t *testing.T) {
	o := &origin{calls: map[string]int{}}
	srv := httptest.NewServer(o)
	defer srv.Close()
	var logs syncBuffer
	base, _, stop := startProxyLogging(t, &logs, srv.URL)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	do(t, c, "GET", base+"/item?x=1", "")
	do(t, c, "GET", base+"/item?x=1", "")
	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "msg=request") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d request lines, want 2:\n%s", len(lines), logs.String())
	}
	for i, want := range []string{`cache_status="hitbox; fwd=uri-miss`, `cache_status="hitbox; hit`} {
		for _, part := range []string{"method=GET", "path=\"/item?x=1\"", "status=200", "bytes=7", "duration=", want} {
			if !strings.Contains(lines[i], part) {
				t.Errorf("log line %d %q lacks %q", i+1, lines[i], part)
			}
		}
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", logs.String())
	}
}

// TestProxyStreaming: the client gets the first bytes while the origin is
// still sending (the proxy and the cache stream), and the whole response
// is stored once it has ended.
func TestProxyStreaming(t *testing.T) {
	o := &origin{calls: map[string]int{}, release: make(chan struct{})}
	srv := httptest.NewServer(o)
	defer srv.Close()
	base, _, stop := startProxy(t, srv.URL)
	c := &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
	defer c.CloseIdleConnections()

	resp, err := c.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len("first,"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first," {
		t.Fatalf("first bytes %q, %v; want \"first,\" before the origin finished", first, err)
	}
	close(o.release)
	rest, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(rest) != "rest" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	if r := do(t, c, "GET", base+"/stream", ""); r.body != "first,rest" || !hit(r) {
		t.Errorf("second GET: %q, Cache-Status %q; want the whole stored body", r.body, r.header.Get("Cache-Status"))
	}
	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestProxyInterim: a 103 from the origin reaches the client before the
// final response, which is stored (interim responses are never stored).
func TestProxyInterim(t *testing.T) {
	o := &origin{calls: map[string]int{}}
	srv := httptest.NewServer(o)
	defer srv.Close()
	base, _, stop := startProxy(t, srv.URL)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()

	var mu sync.Mutex
	var interim []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		interim = append(interim, fmt.Sprintf("%d %s", code, h.Get("Link")))
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/interim", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	mu.Lock()
	got := strings.Join(interim, "; ")
	mu.Unlock()
	if want := "103 </styles.css>; rel=preload; as=style"; got != want {
		t.Errorf("interim responses %q, want %q", got, want)
	}
	if resp.StatusCode != 200 || string(body) != "final" {
		t.Errorf("final response %d %q, want 200 \"final\"", resp.StatusCode, body)
	}
	r := do(t, c, "GET", base+"/interim", "")
	if r.status != 200 || r.body != "final" || !hit(r) {
		t.Errorf("second GET: %d %q, Cache-Status %q; want the stored 200", r.status, r.body, r.header.Get("Cache-Status"))
	}
	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestCanonicalHost(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"http://Example.test/x", "http://example.test:80/", true},
		{"https://example.test/", "https://example.test:443/y", true},
		{"http://example.test/", "https://example.test/", false},
		{"http://example.test:8000/", "http://example.test/", false},
		{"http://127.0.0.1:8000/a", "http://127.0.0.1:8000", true},
	} {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := canonicalHost(a) == canonicalHost(b); got != tt.same {
			t.Errorf("same origin %s, %s = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}
