package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/httpcache"
)

// TestFraming: the framing a framingConn follows finds every request's
// header in a connection's bytes, however they are split into reads, and
// notes those framed by both Content-Length and Transfer-Encoding.
func TestFraming(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		stream string
		want   []bool
	}{
		{"one GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", []bool{false}},
		{"a body by Content-Length, then a request",
			"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
			[]bool{false, false}},
		{"a chunked body with an extension and a trailer, then an ambiguous request",
			"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nab\r\n\r\n0\r\nX-T: 1\r\n\r\n" +
				"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			[]bool{false, true}},
		{"both framings on the first request; what follows is not followed",
			"POST / HTTP/1.1\r\nHost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
			[]bool{true}},
		{"empty lines before a request line are skipped",
			"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", []bool{false, false}},
		{"lines ending in bare LF",
			"POST / HTTP/1.1\nHost: x\nContent-Length: 3\n\nabcGET / HTTP/1.1\r\nHost: x\nContent-Length: 1\r\nTransfer-Encoding: chunked\n\r\n",
			[]bool{false, true}},
		{"OPTIONS * is answered by net/http: no verdict",
			"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
			[]bool{true}},
		{"Transfer-Encoding on HTTP/1.0 is ignored, as net/http does: the next request is found",
			"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
			[]bool{false, true}},
	}
	for _, tc := range cases {
		for _, step := range []int{len(tc.stream), 1, 7} {
			c := &framingConn{}
			for s := tc.stream; s != ""; {
				n := min(step, len(s))
				c.scan([]byte(s[:n]))
				s = s[n:]
			}
			if got, _ := c.verdicts(); !slices.Equal(got, tc.want) {
				t.Errorf("%s, read %d bytes at a time: verdicts %v, want %v", tc.name, step, got, tc.want)
			}
		}
	}
}

// TestFramingLost: once a connection's bytes are no longer followed (here
// after an Upgrade the origin may refuse), the request that caused it is
// served as usual and every later one is marked, so the proxy closes the
// connection after answering it.
func TestFramingLost(t *testing.T) {
	t.Parallel()
	c := &framingConn{}
	c.scan([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n"))
	if v := c.next(); v != framingOK {
		t.Errorf("the Upgrade request: verdict %d, want framingOK", v)
	}
	if v := c.next(); v != framingUnknown {
		t.Errorf("the request after it: verdict %d, want framingUnknown", v)
	}
}

// TestProxyRefusesAmbiguousFraming: a request with both Content-Length and
// Transfer-Encoding is answered 400 with Connection: close, and what was
// smuggled behind it never reaches the origin (RFC 9112 §6.1).
func TestProxyRefusesAmbiguousFraming(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	originSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	defer originSrv.Close()
	base, _, stop := startProxy(t, originSrv.URL)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+
		"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	var statuses []int
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break // the proxy closed the connection
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusBadRequest && !resp.Close {
			t.Error("the 400 does not say Connection: close")
		}
	}
	if len(statuses) != 2 || statuses[0] != 200 || statuses[1] != 400 {
		t.Errorf("statuses %v, want [200 400] and the connection closed", statuses)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(paths, " ") != "/first" {
		t.Errorf("the origin saw %v, want only /first", paths)
	}
}

// TestProxyStripsRewritingFields: fields that make frameworks answer for
// another URL, method, host or scheme never reach the origin, so the
// response stored for a URL is the URL's.
func TestProxyStripsRewritingFields(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	originSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		for _, f := range httpcache.DefaultBypassFields() {
			if v := r.Header.Values(f); len(v) > 0 {
				seen[f] = v
			}
		}
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, "page")
	}))
	defer originSrv.Close()
	base, _, stop := startProxy(t, originSrv.URL)
	var hdr []string
	for _, f := range httpcache.DefaultBypassFields() {
		hdr = append(hdr, f, "evil")
	}
	c := &http.Client{}
	do(t, c, "GET", base+"/page", "", hdr...)
	if r := do(t, c, "GET", base+"/page", ""); !hit(r) || r.body != "page" {
		t.Errorf("the plain request after it: hit %v, body %q", hit(r), r.body)
	}
	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for f, v := range seen {
		switch {
		case f == "X-Forwarded-Host" && v[0] != "evil":
		case f == "X-Forwarded-Proto" && v[0] == "http":
		default:
			t.Errorf("the origin got %s: %q", f, v)
		}
	}
}

// reflectingOrigin answers every GET with a body that says whether the
// request carried anything an attacker could use to shape it (a body, a
// rewriting field), as origins that honour them do, and lets the answer
// be cached.
type reflectingOrigin struct {
	mu   sync.Mutex
	seen []string // method and path of each request
}

func (o *reflectingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.seen = append(o.seen, r.Method+" "+r.URL.Path)
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=300")
	shaped := len(body) > 0
	for _, f := range httpcache.DefaultBypassFields() {
		if v := r.Header.Get(f); v != "" && (f != "X-Forwarded-Host" && f != "X-Forwarded-Proto" || v == "evil") {
			shaped = true
		}
	}
	if shaped {
		_, _ = io.WriteString(w, "poisoned")
		return
	}
	_, _ = io.WriteString(w, "plain")
}

func (o *reflectingOrigin) saw(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, s := range o.seen {
		if strings.HasSuffix(s, " "+path) {
			n++
		}
	}
	return n
}

// TestProxyAttacks sends the proxy raw requests as an attacker would,
// each on a connection of its own, and checks the statuses it answers,
// whether it closes the connection, whether the request reached the
// origin, and that a plain GET of the same URL afterwards gets the plain
// answer: no request shapes what another client is served.
func TestProxyAttacks(t *testing.T) {
	o := &reflectingOrigin{}
	originSrv := httptest.NewServer(o)
	defer originSrv.Close()
	base, _, stop := startProxy(t, originSrv.URL)
	addr := strings.TrimPrefix(base, "http://")
	huge := strings.Repeat("a", 1<<20+8192)
	cases := []struct {
		name    string
		path    string
		raw     string // %s is the path
		status  []int  // the answers, in order
		closed  bool   // the proxy closes the connection after them
		reached bool   // the attack reached the origin
	}{
		{"GET with a body by Content-Length", "/get-body",
			"GET %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nevil!", []int{200}, false, true},
		{"GET with a chunked body", "/get-chunked",
			"GET %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nevil!\r\n0\r\n\r\n", []int{200}, false, true},
		{"HEAD with a body", "/head-body",
			"HEAD %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nevil!", []int{200}, false, true},
		{"X-Original-URL", "/original-url",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-Original-URL: /admin\r\n\r\n", []int{200}, false, true},
		{"X-Rewrite-URL and X-HTTP-Method-Override", "/override",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-Rewrite-URL: /admin\r\nX-HTTP-Method-Override: DELETE\r\n\r\n", []int{200}, false, true},
		{"X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Port, X-Host", "/forwarded",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Proto: evil\r\nX-Forwarded-Port: 1\r\nX-Host: evil\r\n\r\n", []int{200}, false, true},
		{"a rewriting field folded into another (obs-fold: net/http reads it as part of X-A's value)", "/fold",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-A: a\r\n X-Original-URL: /admin\r\n\r\n", []int{200}, false, true},
		{"Content-Length and Transfer-Encoding", "/cl-te",
			"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", []int{400}, true, false},
		{"Content-Length and Transfer-Encoding, lines ending in bare LF", "/cl-te-lf",
			"POST %s HTTP/1.1\nHost: x\nContent-Length: 6\nTransfer-Encoding: chunked\n\n0\r\n\r\nX", []int{400}, true, false},
		{"Content-Length and Transfer-Encoding on HTTP/1.0", "/cl-te-10",
			"POST %s HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, false},
		{"two Content-Length values", "/cl-cl",
			"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 5\r\n\r\nevil!", []int{400}, true, false},
		{"Transfer-Encoding other than chunked", "/te-gzip",
			"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []int{501}, true, false},
		{"a bare CR in a field value", "/cr",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Original-URL: /admin\r\n\r\n", []int{400}, true, false},
		{"white space before a field's colon", "/ws-colon",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-Original-URL : /admin\r\n\r\n", []int{400}, true, false},
		{"two Host fields", "/two-hosts",
			"GET %s HTTP/1.1\r\nHost: x\r\nHost: evil\r\n\r\n", []int{400}, true, false},
		{"a header past the proxy's limit", "/huge",
			"GET %s HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + "\r\n\r\n", []int{431}, true, false},
	}
	for _, tc := range cases {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// Only against a hang: no answer here depends on time.
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		_, _ = io.WriteString(conn, strings.Replace(tc.raw, "%s", tc.path, 1))
		br := bufio.NewReader(conn)
		var got []int
		method, _, _ := strings.Cut(tc.raw, " ")
		for range tc.status {
			resp, err := http.ReadResponse(br, &http.Request{Method: method})
			if err != nil {
				break
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		if !slices.Equal(got, tc.status) {
			t.Errorf("%s: statuses %v, want %v", tc.name, got, tc.status)
		}
		if tc.closed {
			// What is left is at most a 400 net/http wrote for a request
			// it refused itself, then the end of the connection.
			if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 400") {
				t.Errorf("%s: after the answers, %q, %v; want the connection closed", tc.name, rest, err)
			}
		}
		conn.Close()
		if n := o.saw(tc.path); (n > 0) != tc.reached {
			t.Errorf("%s: the origin saw it %d times", tc.name, n)
		}
		c := &http.Client{}
		if r := do(t, c, "GET", base+tc.path, ""); r.body != "plain" {
			t.Errorf("%s: a plain GET afterwards got %q", tc.name, r.body)
		}
		c.CloseIdleConnections()
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// FuzzFraming: any bytes a client sends, split into reads anyhow, give
// the same verdicts as read whole, and never panic.
func FuzzFraming(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nab\r\n\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), uint8(3))
	f.Add([]byte("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nabGET / HTTP/1.1\r\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		whole := &framingConn{}
		whole.scan(stream)
		split := &framingConn{}
		n := int(step%16) + 1
		for s := stream; len(s) > 0; {
			k := min(n, len(s))
			split.scan(s[:k])
			s = s[k:]
		}
		wv, wgone := whole.verdicts()
		sv, sgone := split.verdicts()
		if !slices.Equal(wv, sv) || wgone != sgone {
			t.Errorf("read whole: %v gone=%v; read %d at a time: %v gone=%v", wv, wgone, n, sv, sgone)
		}
	})
}

// TestProxyStorePolicy runs the classes of issue 19 that the cache's
// policy decides through the proxy: what a plain client gets on a second
// request after the first, for web cache deception, a long URL, a
// response that would not read back, a malformed upstream Cache-Status
// and a status outside 100-599.
func TestProxyStorePolicy(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	originSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Path]++
		n := calls[r.URL.Path]
		mu.Unlock()
		h := w.Header()
		switch {
		case r.URL.Path == "/account/x.css":
			// Only Last-Modified: a heuristic lifetime, for the
			// session's own page.
			h.Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
			_, _ = fmt.Fprintf(w, "account of %s", r.Header.Get("Cookie"))
		case strings.HasPrefix(r.URL.Path, "/long/"):
			h.Set("Cache-Control", "max-age=300")
			_, _ = fmt.Fprintf(w, "long %d", n)
		case r.URL.Path == "/many-vary":
			h.Set("Cache-Control", "max-age=300")
			for i := range 300 {
				h.Add("Vary", fmt.Sprintf("X-V%d", i))
			}
			_, _ = fmt.Fprintf(w, "vary %d", n)
		case r.URL.Path == "/upstream-status":
			h.Set("Cache-Status", `upstream; hit, bad member(, "also bad`)
			h.Set("Cache-Control", "max-age=300")
			_, _ = io.WriteString(w, "ok")
		case r.URL.Path == "/odd-status":
			w.WriteHeader(700)
		}
	}))
	defer originSrv.Close()
	base, _, stop := startProxy(t, originSrv.URL)
	c := &http.Client{}
	defer c.CloseIdleConnections()

	do(t, c, "GET", base+"/account/x.css", "", "Cookie", "session=victim")
	if r := do(t, c, "GET", base+"/account/x.css", ""); hit(r) || strings.Contains(r.body, "victim") {
		t.Errorf("deception: an anonymous client got %q (%q)", r.body, r.header.Get("Cache-Status"))
	}

	long := base + "/long/" + strings.Repeat("a", 4000)
	do(t, c, "GET", long, "")
	if r := do(t, c, "GET", long, ""); !hit(r) || r.body != "long 1" {
		t.Errorf("a 4 KB URL: second GET %q %q, want a hit", r.body, r.header.Get("Cache-Status"))
	}

	r := do(t, c, "GET", base+"/many-vary", "")
	if cs := r.header.Get("Cache-Status"); strings.Contains(cs, "; stored") || !strings.Contains(cs, "too many vary names") {
		t.Errorf("300 Vary names: Cache-Status %q, want not stored, with a detail", cs)
	}
	if r := do(t, c, "GET", base+"/many-vary", ""); r.status != 200 || r.body != "vary 2" {
		t.Errorf("300 Vary names, second GET: %d %q", r.status, r.body)
	}

	r = do(t, c, "GET", base+"/upstream-status", "")
	if got := r.header.Values("Cache-Status"); len(got) == 0 || !strings.HasPrefix(got[0], "upstream; hit") || strings.Contains(strings.Join(got, ","), "bad") {
		t.Errorf("upstream Cache-Status: %q, want the well-formed member kept, the others dropped", got)
	}

	if r := do(t, c, "GET", base+"/odd-status", ""); r.status != http.StatusBadGateway {
		t.Errorf("an origin status of 700: %d, want 502", r.status)
	}
	c.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestProxySlowClient: a client that sends part of its request header
// and stalls (slowloris) is cut off once -header-timeout passes, and
// nothing of it reaches the origin.
func TestProxySlowClient(t *testing.T) {
	o := &reflectingOrigin{}
	originSrv := httptest.NewServer(o)
	defer originSrv.Close()
	base, _, stop := startProxy(t, originSrv.URL, "-header-timeout", "50ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Only against a hang: the proxy's timeout is what ends the read.
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	_, _ = io.WriteString(conn, "GET /slow HTTP/1.1\r\nHost: x\r\nX-A: ")
	rest, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the connection was not closed by the proxy: %v", err)
	}
	if len(rest) > 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 408") {
		t.Errorf("the stalled client got %q", rest)
	}
	if n := o.saw("/slow"); n != 0 {
		t.Errorf("the origin saw the stalled request %d times", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
