package main

// An end-to-end conformance check of the proxy as a shared HTTP cache:
// each case is a short script of client requests sent through the real
// proxy (on loopback, in-process) to a scripted origin, in real time, as
// an outside conformance check would see it. What only the running proxy
// shows is the point: header fields forwarded and returned, Date and Age
// in whole seconds, 1xx responses, an origin that closes the connection,
// and the middleware's rules seen through httputil.ReverseProxy. Every
// request carries an unknown Cache-Control directive and an unknown
// Pragma, as test clients that defeat their own cache do; both must change
// nothing.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// aStep is one client request of a conformance case and the origin's answer
// to it, should the proxy forward it.
type aStep struct {
	method string      // GET when empty
	path   string      // appended to the case's base path
	req    [][2]string // request header fields
	body   string      // request body

	// The origin's answer. Header values "@N" are HTTP dates N seconds
	// from the origin's now, "~/x" the request's path followed by /x, and
	// "-" sends no such field (not even the Date and Content-Type net/http
	// would add).
	status     int // 200 when zero
	resp       [][2]string
	respBody   string // "body<step>" when empty, unless noBody
	noBody     bool
	interim    []int // 1xx codes sent before the final response
	disconnect bool  // close the connection without answering

	// Expectations.
	cached    bool // answered from the cache: the origin did not answer this step
	notCached bool // the origin answered this step
	wantCode  int
	wantBody  *string
	has       [][2]string // response fields; "*" as a value means present
	hasNot    []string
	ageMin    int // Age present and at least this (when > 0)
	sent      [][2]string
	method2   string // the method the origin must have seen for this step
	interimOK []int  // 1xx codes the client must have received, in order
	pause     time.Duration
}

type aCase struct {
	name  string // with the RFC section
	steps []aStep
	skip  string
}

// scriptedOrigin answers each case's steps as scripted. The client sends the
// step number in X-Step; the origin stamps the step it answered in
// X-Origin-Step, so a response from the cache shows an older step.
type scriptedOrigin struct {
	mu    sync.Mutex
	cases map[string]*aCase
	seen  map[string][]http.Request // by case: the requests the origin got
}

func (o *scriptedOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	o.mu.Lock()
	c := o.cases[name]
	step, err := strconv.Atoi(r.Header.Get("X-Step"))
	if c == nil || err != nil || step < 1 || step > len(c.steps) {
		o.mu.Unlock()
		http.Error(w, "no script", 599)
		return
	}
	o.seen[name] = append(o.seen[name], *r.Clone(context.Background()))
	s := c.steps[step-1]
	o.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)

	if s.disconnect {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	for _, code := range s.interim {
		w.WriteHeader(code)
	}
	now := time.Now()
	h := w.Header()
	h.Set("X-Origin-Step", strconv.Itoa(step))
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", "text/plain")
	for _, f := range s.resp {
		v := f[1]
		if n, ok := strings.CutPrefix(v, "@"); ok {
			d, _ := strconv.Atoi(n)
			v = now.Add(time.Duration(d) * time.Second).UTC().Format(http.TimeFormat)
		}
		if rest, ok := strings.CutPrefix(v, "~"); ok {
			v = r.URL.Path + rest
		}
		if f[0] == "Date" || f[0] == "Content-Type" {
			h.Del(f[0])
		}
		if v == "-" {
			h[f[0]] = nil // none, and net/http adds none either
			continue
		}
		h.Add(f[0], v)
	}
	code := s.status
	if code == 0 {
		code = 200
	}
	if code == http.StatusNotModified {
		// net/http drops Content-Type from a 304; origins in general do
		// not, and RFC 9111 §3.2 has the cache update it like any field.
		writeRaw304(w)
		return
	}
	w.WriteHeader(code)
	if !s.noBody && r.Method != http.MethodHead {
		_, _ = io.WriteString(w, respBody(s, step))
	}
}

// writeRaw304 writes a 304 with every field set on w, then closes the
// connection.
func writeRaw304(w http.ResponseWriter) {
	h := w.Header().Clone()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	h.Set("Connection", "close")
	_, _ = buf.WriteString("HTTP/1.1 304 Not Modified\r\n")
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_ = buf.Flush()
}

func respBody(s aStep, step int) string {
	if s.respBody != "" {
		return s.respBody
	}
	return "body" + strconv.Itoa(step)
}

func (o *scriptedOrigin) requests(name string, step int) []http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []http.Request
	for _, r := range o.seen[name] {
		if r.Header.Get("X-Step") == strconv.Itoa(step) {
			out = append(out, r)
		}
	}
	return out
}

// runConformance starts one origin and one proxy (with extra flags) and runs the
// cases in phases: each case runs its steps up to the first that pauses,
// then all wait once together, and so on, so a few real pauses cost their
// length once, however many cases there are.
func runConformance(t *testing.T, cases []aCase, extra ...string) {
	t.Helper()
	o := &scriptedOrigin{cases: map[string]*aCase{}, seen: map[string][]http.Request{}}
	for i := range cases {
		o.cases["c"+strconv.Itoa(i)] = &cases[i]
	}
	srv := httptest.NewServer(o)
	defer srv.Close()
	base, _, stop := startProxy(t, srv.URL, extra...)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	next := make([]int, len(cases)) // the next step of each case; len(steps) when done or failed
	for i, c := range cases {
		if c.skip != "" {
			t.Run(c.name, func(t *testing.T) { t.Skip(c.skip) })
			next[i] = len(c.steps)
		}
	}
	for {
		var pause time.Duration
		ran := false
		for i := range cases {
			c := &cases[i]
			if next[i] >= len(c.steps) {
				continue
			}
			ran = true
			ok := t.Run(c.name, func(t *testing.T) {
				for next[i] < len(c.steps) {
					s := c.steps[next[i]]
					next[i]++
					runStep(t, o, tr, base, "c"+strconv.Itoa(i), next[i], s)
					if s.pause > 0 {
						pause = max(pause, s.pause)
						return
					}
				}
			})
			if !ok {
				next[i] = len(c.steps)
			}
		}
		if !ran {
			break
		}
		time.Sleep(pause) // the real time the cases are about: ages in whole seconds
	}
	tr.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func runStep(t *testing.T, o *scriptedOrigin, tr *http.Transport, base, name string, step int, s aStep) {
	t.Helper()
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	var (
		mu      sync.Mutex
		interim []int
	)
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		interim = append(interim, code)
		return nil
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+"/"+name+"/r"+s.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cache-Control", "nothing-to-see-here")
	req.Header.Set("Pragma", "foo")
	for _, f := range s.req {
		req.Header.Add(f[0], f[1])
	}
	req.Header.Set("X-Step", strconv.Itoa(step))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("step %d: %s: %v", step, method, err)
	}
	got, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("step %d: reading the body: %v", step, err)
	}
	label := fmt.Sprintf("step %d (%s, Cache-Status %q)", step, method, resp.Header.Get("Cache-Status"))
	from := resp.Header.Get("X-Origin-Step")
	if s.cached && from == strconv.Itoa(step) {
		t.Errorf("%s: answered by the origin; want the stored response", label)
	}
	if s.notCached && from != strconv.Itoa(step) {
		t.Errorf("%s: answered from step %q; want the origin's answer to this request", label, from)
	}
	want := s.wantCode
	if want == 0 && (s.cached || s.notCached) {
		want = 200
	}
	if want != 0 && resp.StatusCode != want {
		t.Errorf("%s: status %d, want %d", label, resp.StatusCode, want)
	}
	if s.wantBody != nil && string(got) != *s.wantBody {
		t.Errorf("%s: body %q, want %q", label, got, *s.wantBody)
	}
	for _, f := range s.has {
		v := strings.Join(resp.Header.Values(f[0]), ", ")
		if f[1] == "*" && len(resp.Header.Values(f[0])) == 0 || f[1] != "*" && v != f[1] {
			t.Errorf("%s: %s %q, want %q", label, f[0], v, f[1])
		}
	}
	for _, n := range s.hasNot {
		if v := resp.Header.Values(n); len(v) > 0 {
			t.Errorf("%s: %s %q, want none", label, n, v)
		}
	}
	if s.ageMin > 0 {
		if a, err := strconv.Atoi(resp.Header.Get("Age")); err != nil || a < s.ageMin {
			t.Errorf("%s: Age %q, want at least %d (RFC 9111 §4.2.3)", label, resp.Header.Get("Age"), s.ageMin)
		}
	}
	if len(s.sent) > 0 || s.method2 != "" {
		reqs := o.requests(name, step)
		if len(reqs) == 0 {
			t.Errorf("%s: the origin was not asked", label)
		} else {
			last := reqs[len(reqs)-1]
			for _, f := range s.sent {
				v := strings.Join(last.Header.Values(f[0]), ", ")
				if f[1] == "*" && v == "" || f[1] != "*" && v != f[1] {
					t.Errorf("%s: the origin was sent %s %q, want %q", label, f[0], v, f[1])
				}
			}
			if s.method2 != "" && last.Method != s.method2 {
				t.Errorf("%s: the origin saw %s, want %s", label, last.Method, s.method2)
			}
		}
	}
	if s.interimOK != nil {
		mu.Lock()
		if fmt.Sprint(interim) != fmt.Sprint(s.interimOK) {
			t.Errorf("%s: interim responses %v, want %v (RFC 9110 §15.2)", label, interim, s.interimOK)
		}
		mu.Unlock()
	}
}

func sp(s string) *string { return &s }

func kv(pairs ...string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, [2]string{pairs[i], pairs[i+1]})
	}
	return out
}

// TestConformance runs the conformance cases that need no real pause.
func TestConformance(t *testing.T) {
	fresh := kv("Expires", "@100000", "Cache-Control", "max-age=100000", "Last-Modified", "@0", "Date", "@0")
	stale := kv("Expires", "@-5000", "Last-Modified", "@-100000", "Date", "@0")
	lm := time.Now().Add(-24 * time.Hour).UTC().Format(http.TimeFormat)
	var cases []aCase

	cases = append(cases,
		aCase{name: "RFC 9111 §5.2: an unknown request directive and Pragma beside Cache-Control change nothing: a fresh response is reused",
			steps: []aStep{{resp: fresh, notCached: true}, {cached: true, wantBody: sp("body1")}}},
		aCase{name: "RFC 9110 §7.6.1, RFC 9111 §3.1: fields Connection names, and Connection, reach the client neither on a miss nor on a hit; others do",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Connection", "a, b", "a", "1", "b", "2", "c", "3"), notCached: true, has: kv("c", "3"), hasNot: []string{"a", "b", "Connection"}},
				{cached: true, has: kv("c", "3"), hasNot: []string{"a", "b", "Connection"}},
			}},
		aCase{name: "RFC 9110 §7.6.1: Keep-Alive, Proxy-Connection and Upgrade from the origin are hop-by-hop and not passed on",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Keep-Alive", "timeout=5", "Proxy-Connection", "x", "Upgrade", "foo"), notCached: true, hasNot: []string{"Keep-Alive", "Proxy-Connection", "Upgrade"}},
				{cached: true, hasNot: []string{"Keep-Alive", "Proxy-Connection", "Upgrade"}},
			}},
		aCase{name: "RFC 9111 §3.1: end-to-end fields are stored and served as received (security fields, an unknown field)",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "X-Frame-Options", "deny", "Clear-Site-Data", "cookies", "Strict-Transport-Security", "max-age=1", "WWW-Authenticate", "Basic", "Test-Header", "x", "Test-Header", "y"), notCached: true},
				{cached: true, has: kv("X-Frame-Options", "deny", "Clear-Site-Data", "cookies", "Strict-Transport-Security", "max-age=1", "WWW-Authenticate", "Basic", "Test-Header", "x, y")},
			}},
		aCase{name: "RFC 9111 §5.2.2.4, §3.1: no-cache=\"a\" on its own line: a hit omits a and keeps b",
			steps: []aStep{
				{resp: kv("Cache-Control", `no-cache="a"`, "a", "1", "b", "2", "Cache-Control", "max-age=3600"), notCached: true},
				{cached: true, has: kv("b", "2"), hasNot: []string{"a"}},
			}},
		aCase{name: "RFC 9111 §4, RFC 9110 §6.6.1: a hit carries the origin's Date unchanged, and an Age",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Date", "@-10"), notCached: true},
				{cached: true, ageMin: 10},
			}},
		aCase{name: "RFC 9111 §4.2.3: an upstream Age of 30 is carried into the Age of a hit (Expires-based freshness)",
			steps: []aStep{
				{resp: kv("Expires", "@2592000", "Date", "@0", "Age", "30"), notCached: true},
				{cached: true, ageMin: 30, has: kv("Age", "30")},
			}},
		aCase{name: "RFC 9111 §1.2.2: max-age=2147483648 is fresh",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=2147483648"), notCached: true}, {cached: true, has: kv("Age", "0")}}},
		aCase{name: "RFC 9111 §1.2.2: max-age=99999999999 is fresh",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=99999999999"), notCached: true}, {cached: true}}},
		aCase{name: "RFC 9111 §1.2.2, §5.1: an upstream Age of 2147483648 makes a max-age=3600 response stale",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=3600", "Age", "2147483648"), notCached: true}, {notCached: true}}},
		aCase{name: "RFC 9111 §1.2.2, §5.1: an upstream Age beyond 2^63 makes the response stale, not fresh by overflow",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=3600", "Age", "99999999999999999999999"), notCached: true}, {notCached: true}}},
		aCase{name: "RFC 9111 §4.2.3: max-age=10 with an upstream Age of 15 is stale on arrival",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=10", "Age", "15", "Date", "@0"), notCached: true}, {notCached: true}}},
		aCase{name: "RFC 9111 §4.2.2: Last-Modified 100000 s before Date gives heuristic freshness through the proxy",
			steps: []aStep{{resp: kv("Last-Modified", "@-100000", "Date", "@0"), notCached: true}, {cached: true}}},
		aCase{name: "RFC 9111 §4.1: a Vary-named request field that differs is another variant; both are kept",
			steps: []aStep{
				{req: kv("Foo", "1"), resp: kv("Cache-Control", "max-age=5000", "Vary", "Foo"), notCached: true},
				{req: kv("Foo", "2"), resp: kv("Cache-Control", "max-age=5000", "Vary", "Foo"), notCached: true},
				{req: kv("Foo", "1"), cached: true, wantBody: sp("body1")},
				{req: kv("Foo", "2"), cached: true, wantBody: sp("body2")},
			}},
		aCase{name: "RFC 9111 §3.5: a response to a request with Authorization is not stored without public",
			steps: []aStep{
				{req: kv("Authorization", "Basic YTpi"), resp: kv("Cache-Control", "max-age=3600"), notCached: true, sent: kv("Authorization", "Basic YTpi")},
				{req: kv("Authorization", "Basic YTpi"), notCached: true},
			}},
		aCase{name: "RFC 9111 §3.5, §5.2.2.9: public lets it be stored",
			steps: []aStep{
				{req: kv("Authorization", "Basic YTpi"), resp: kv("Cache-Control", "max-age=3600, public"), notCached: true},
				{req: kv("Authorization", "Basic YTpi"), cached: true},
			}},
		aCase{name: "RFC 9111 §5.2.2.5: no-store is not stored, and an older stored response may still answer afterwards",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=10000", "A", "1"), notCached: true},
				{req: kv("Cache-Control", "no-cache"), resp: kv("Cache-Control", "no-store", "A", "2"), notCached: true, has: kv("A", "2")},
				{cached: true, has: kv("A", "1")},
			}},
		aCase{name: "RFC 9111 §5.2.2.4: max-age with no-cache and an ETag: stored, but validated with If-None-Match before reuse",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=10000, no-cache", "ETag", `"abcd"`), notCached: true},
				{status: 304, resp: kv("ETag", `"abcd"`), noBody: true, wantCode: 200, wantBody: sp("body1"), sent: kv("If-None-Match", `"abcd"`)},
			}},
		aCase{name: "RFC 9111 §4.3.2: a client's If-None-Match that matches a fresh stored response gets 304 from the cache",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "ETag", `"abcd"`), notCached: true},
				{req: kv("If-None-Match", `"abcd"`), wantCode: 304, cached: true, has: kv("ETag", `"abcd"`)},
			}},
		aCase{name: "RFC 9111 §4.3.2: a client's If-Modified-Since not before Last-Modified gets 304 from the cache",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Last-Modified", "@-3000", "Date", "@0"), notCached: true},
				{req: kv("If-Modified-Since", time.Now().UTC().Format(http.TimeFormat)), wantCode: 304, cached: true},
			}},
		aCase{name: "RFC 9111 §4.3.1: a stale response with Last-Modified is validated with If-Modified-Since naming that date; the 304 updates stored fields (Content-Type too) and the stored body answers",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0", "Last-Modified", lm, "Test-Header", "A", "Content-Type", "text/plain"), notCached: true},
				{status: 304, noBody: true, resp: kv("Cache-Control", "max-age=3600", "Last-Modified", lm, "Test-Header", "B", "Content-Type", "text/plain;charset=utf-8"),
					wantCode: 200, wantBody: sp("body1"), sent: kv("If-Modified-Since", lm), has: kv("Test-Header", "B", "Content-Type", "text/plain;charset=utf-8")},
				{cached: true, wantBody: sp("body1"), has: kv("Test-Header", "B", "Content-Type", "text/plain;charset=utf-8")},
			}},
		aCase{name: "RFC 9111 §3.2: a 304 that omits a stored field leaves it as stored",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0", "ETag", `"e"`, "Test-Header", "A"), notCached: true},
				{status: 304, noBody: true, resp: kv("Cache-Control", "max-age=3600", "ETag", `"e"`), wantCode: 200, has: kv("Test-Header", "A")},
			}},
		aCase{name: "RFC 9111 §4.3.5: a HEAD on a stale stored response is forwarded as HEAD",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0", "Template-A", "1"), notCached: true},
				{method: "HEAD", method2: "HEAD", wantCode: 200, wantBody: sp("")},
			}},
		aCase{name: "RFC 9111 §4.3.5: a 200 to a HEAD with max-age=1000 freshens the stored GET response",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0", "Template-A", "1"), respBody: "0123456789", notCached: true},
				{method: "HEAD", resp: kv("Cache-Control", "max-age=1000", "Template-A", "2"), respBody: "0123456789", method2: "HEAD", wantCode: 200},
				{cached: true, wantBody: sp("0123456789"), has: kv("Template-A", "2")},
			}},
		aCase{name: "RFC 9110 §14.2, RFC 9111 §3.4: a Range is served from a stored complete response (0-1, 1-, -1)",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600"), respBody: "0123456789A", notCached: true},
				{req: kv("Range", "bytes=0-1"), cached: true, wantCode: 206, wantBody: sp("01")},
				{req: kv("Range", "bytes=1-"), cached: true, wantCode: 206, wantBody: sp("123456789A")},
				{req: kv("Range", "bytes=-1"), cached: true, wantCode: 206, wantBody: sp("A")},
			}},
		aCase{name: "RFC 9111 §3.3: a 206 from the origin is passed through with its Range forwarded, and not served as a complete response",
			steps: []aStep{
				{req: kv("Range", "bytes=-5"), status: 206, resp: kv("Cache-Control", "max-age=3600", "Content-Range", "bytes 4-9/10"), respBody: "01234", wantCode: 206, wantBody: sp("01234"), sent: kv("Range", "bytes=-5")},
				{notCached: true},
			}},
		aCase{name: "RFC 9111 §5.4: Pragma: no-cache in a request with Cache-Control is ignored",
			steps: []aStep{
				{resp: fresh, notCached: true},
				{req: kv("Pragma", "no-cache"), cached: true},
			}},
		aCase{name: "RFC 9111 §5.2.1.4: request no-cache (beside an unknown directive) makes the cache go to the origin",
			steps: []aStep{
				{resp: fresh, notCached: true},
				{req: kv("Cache-Control", "no-cache"), resp: fresh, notCached: true},
			}},
		aCase{name: "RFC 9111 §5.2.1.7: only-if-cached with nothing stored: 504 without asking the origin",
			steps: []aStep{{req: kv("Cache-Control", "only-if-cached"), wantCode: 504}}},
		aCase{name: "RFC 9111 §4.1: a request Cookie does not stop reuse",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=3600"), notCached: true}, {req: kv("Cookie", "a=b"), cached: true}}},
		aCase{name: "RFC 9111 §4.1: another query is another key",
			steps: []aStep{{path: "?q=1", resp: fresh, notCached: true}, {path: "?q=2", resp: fresh, notCached: true}, {path: "?q=1", cached: true}}},
		aCase{name: "RFC 9110 §15.2, RFC 9111 §3: a 102 passes through to the client; the final response is stored",
			steps: []aStep{
				{interim: []int{102}, resp: kv("Cache-Control", "max-age=100000"), notCached: true, interimOK: []int{102}},
				{cached: true},
			}},
		aCase{name: "RFC 9110 §15.2: after a 103 the final response still gets no Content-Type the origin did not send",
			steps: []aStep{
				{interim: []int{103}, resp: kv("Cache-Control", "max-age=100000", "Content-Type", "-"), respBody: "<html>", notCached: true, interimOK: []int{103}, hasNot: []string{"Content-Type"}},
				{cached: true, hasNot: []string{"Content-Type"}},
			}},
		aCase{name: "RFC 9111 §4.2.4, RFC 5861 §4: an origin that closes the connection: stale-if-error serves the stored response",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0, stale-if-error=60"), notCached: true},
				{disconnect: true, cached: true, wantBody: sp("body1")},
			}},
		aCase{name: "RFC 9111 §4.2.4, §5.2.2.2: must-revalidate forbids serving it stale when the origin closes the connection: an error",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0, must-revalidate, stale-if-error=60"), notCached: true},
				{disconnect: true, wantCode: 502},
			}},
		aCase{name: "RFC 9110 §8.3: a response without Content-Type gets none from the proxy, on a miss or a hit (no sniffing)",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Content-Type", "-"), respBody: "<html>", notCached: true, hasNot: []string{"Content-Type"}},
				{cached: true, wantBody: sp("<html>"), hasNot: []string{"Content-Type"}},
			}},
		aCase{name: "RFC 9110 §6.6.1: a response without Date gets one on a miss, and a hit keeps the same Date",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Date", "-"), notCached: true, has: kv("Date", "*")},
				{cached: true, has: kv("Date", "*")},
			}},
		aCase{name: "RFC 9111 §4.3.1: a validation carries the request's Vary-selected fields (here the client's own Abc)",
			steps: []aStep{
				{req: kv("Abc", "123"), resp: kv("Cache-Control", "max-age=0", "ETag", `"abcdef"`, "Vary", "Abc"), notCached: true},
				{req: kv("Abc", "123"), status: 304, noBody: true, resp: kv("ETag", `"abcdef"`), wantCode: 200, wantBody: sp("body1"), sent: kv("Abc", "123", "If-None-Match", `"abcdef"`)},
			}},
		aCase{name: "RFC 9111 §4.3.1, RFC 9110 §8.8.3: a stale response with a weak ETag is validated with exactly that ETag",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=0", "ETag", `W/"abcdef"`), notCached: true},
				{status: 304, noBody: true, resp: kv("ETag", `W/"abcdef"`), wantCode: 200, wantBody: sp("body1"), sent: kv("If-None-Match", `W/"abcdef"`)},
			}},
		aCase{name: "RFC 9110 §13.2.2: If-None-Match takes precedence over an If-Modified-Since before Last-Modified: 304 from the cache",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "ETag", `"abcdef"`, "Last-Modified", "@-5000"), notCached: true},
				{req: kv("If-None-Match", `"abcdef"`, "If-Modified-Since", time.Now().Add(-time.Hour*24).UTC().Format(http.TimeFormat)), cached: true, wantCode: 304, has: kv("ETag", `"abcdef"`)},
			}},
		aCase{name: "RFC 9110 §13.1.2: If-None-Match with several entity tags matches any of them",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "ETag", `"abcdef"`), notCached: true},
				{req: kv("If-None-Match", `"1234", "abcdef", "5678"`), cached: true, wantCode: 304},
			}},
		aCase{name: "RFC 9111 §4.3.2: a client's If-None-Match on a miss reaches the origin as sent",
			steps: []aStep{{req: kv("If-None-Match", `"abcdef"`), notCached: true, sent: kv("If-None-Match", `"abcdef"`)}}},
		aCase{name: "RFC 9111 §4.1: a three-field Vary does not match when one value differs; a request that also lacks a field the first lacked matches",
			steps: []aStep{
				{req: kv("Foo", "1", "Baz", "789"), resp: kv("Cache-Control", "max-age=5000", "Vary", "Foo, Bar, Baz"), notCached: true},
				{req: kv("Foo", "1", "Baz", "789"), cached: true},
				{req: kv("Foo", "1", "Bar", "abc", "Baz", "789"), resp: kv("Cache-Control", "max-age=5000", "Vary", "Foo, Bar, Baz"), notCached: true},
			}},
		aCase{name: "RFC 9111 §4.1: Vary: * never matches",
			steps: []aStep{
				{req: kv("Foo", "1"), resp: kv("Cache-Control", "max-age=5000", "Vary", "*"), notCached: true},
				{req: kv("Foo", "1"), notCached: true},
			}},
		aCase{name: "RFC 9111 §4.1: whitespace in a selecting field's value is normalised (1,2 matches \" 1, 2 \")",
			steps: []aStep{
				{req: kv("Foo", "1,2"), resp: kv("Cache-Control", "max-age=5000", "Vary", "Foo"), notCached: true},
				{req: kv("Foo", " 1, 2 "), cached: true},
			}},
		aCase{name: "RFC 9213 §2.2: CDN-Cache-Control: private binds this cache over Cache-Control max-age",
			steps: []aStep{
				{resp: kv("CDN-Cache-Control", "private", "Cache-Control", "max-age=10000"), notCached: true},
				{notCached: true},
			}},
		aCase{name: "RFC 9213 §2.2, RFC 9111 §4.2.3: an Age of 7200 makes a CDN-Cache-Control max-age=3600 stale on arrival",
			steps: []aStep{
				{resp: kv("CDN-Cache-Control", "max-age=3600", "Age", "7200"), notCached: true},
				{notCached: true},
			}},
		aCase{name: "RFC 9213 §2.1: a CDN-Cache-Control that is no valid Dictionary is ignored: Cache-Control no-store applies",
			steps: []aStep{
				{resp: kv("CDN-Cache-Control", "max-age=10000, &&&&&", "Cache-Control", "no-store"), notCached: true},
				{notCached: true},
			}},
		aCase{name: "RFC 9111 §5.4: Pragma: no-cache in a response means nothing; max-age decides",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Pragma", "no-cache"), notCached: true},
				{cached: true},
			}},
		aCase{name: "RFC 9111 §5.2.1.1: request max-age=600 does not accept a response with Age 1800",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=3600", "Age", "1800"), notCached: true},
				{req: kv("Cache-Control", "max-age=600"), resp: kv("Cache-Control", "max-age=3600"), notCached: true},
			}},
		aCase{name: "RFC 9111 §5.2.1.2: request max-stale=1000 accepts a response 500 s stale (Age 2000, max-age=1500)",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=1500", "Age", "2000"), notCached: true},
				{req: kv("Cache-Control", "max-stale=1000"), cached: true},
			}},
		aCase{name: "RFC 9111 §5.2.1.3: request min-fresh=1000 does not accept a response fresh for 500 s more",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=1500", "Age", "1000"), notCached: true},
				{req: kv("Cache-Control", "min-fresh=1000"), resp: kv("Cache-Control", "max-age=1500"), notCached: true},
			}},
	)

	// RFC 9111 §3, §4.2.1: final status codes with explicit freshness are
	// reused while fresh, and a stale one is not.
	for _, code := range []int{200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599} {
		body := "status " + strconv.Itoa(code)
		want := sp(body)
		noBody := code == 204
		if noBody {
			want = sp("")
		}
		cases = append(cases,
			aCase{name: fmt.Sprintf("RFC 9111 §3, §4.2.1: a fresh %d with explicit freshness is reused", code),
				steps: []aStep{
					{status: code, resp: fresh, respBody: body, noBody: noBody, wantCode: code, wantBody: want},
					{cached: true, wantCode: code, wantBody: want},
				}},
			aCase{name: fmt.Sprintf("RFC 9111 §4.2.1, §5.3: a %d whose Expires is past is not reused", code),
				steps: []aStep{
					{status: code, resp: stale, respBody: body, noBody: noBody, wantCode: code},
					{notCached: true, respBody: body, wantBody: sp(body)},
				}},
		)
	}

	// RFC 9111 §4.4: a success to an unsafe method invalidates the target
	// URI and the Location and Content-Location it names (here absolute
	// paths, as origins often send them).
	for _, m := range []string{"POST", "PUT", "DELETE", "M-SEARCH"} {
		cases = append(cases,
			aCase{name: "RFC 9111 §4.4: a 200 to " + m + " invalidates the target URI",
				steps: []aStep{
					{resp: fresh, notCached: true},
					{method: m, body: "abc", notCached: true},
					{notCached: true},
				}},
			aCase{name: "RFC 9111 §4.4: a 500 to " + m + " invalidates nothing",
				steps: []aStep{
					{resp: fresh, notCached: true},
					{method: m, body: "abc", status: 500, wantCode: 500},
					{cached: true},
				}},
			aCase{name: "RFC 9111 §4.4: a 200 to " + m + " invalidates the paths its Location and Content-Location name",
				steps: []aStep{
					{path: "/loc", resp: fresh, notCached: true},
					{path: "/cl", resp: fresh, notCached: true},
					{method: m, body: "abc", resp: kv("Location", "~/loc", "Content-Location", "~/cl"), notCached: true},
					{path: "/loc", notCached: true},
					{path: "/cl", notCached: true},
				}},
		)
	}
	runConformance(t, cases)
}

// TestConformanceStripCDN runs the proxy with
// -forward-cdn-cache-control=false: the targeted field binds this cache and
// goes no further.
func TestConformanceStripCDN(t *testing.T) {
	runConformance(t, []aCase{
		{name: "RFC 9213 §2.2: CDN-Cache-Control max-age beats Cache-Control no-store, and is not sent downstream",
			steps: []aStep{
				{resp: kv("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=3600"), notCached: true, hasNot: []string{"CDN-Cache-Control"}},
				{cached: true, hasNot: []string{"CDN-Cache-Control"}, has: kv("Cache-Control", "no-store")},
			}},
	}, "-forward-cdn-cache-control=false")
}

// TestConformanceForwardCDN runs the proxy as it starts by default: the
// targeted field binds this cache, and reaches the client too (RFC 9213
// §3.1: CDN caches typically forward it).
func TestConformanceForwardCDN(t *testing.T) {
	runConformance(t, []aCase{
		{name: "RFC 9213 §2.2, §3.1: CDN-Cache-Control: private binds this cache and is forwarded downstream",
			steps: []aStep{
				{resp: kv("CDN-Cache-Control", "private", "Cache-Control", "max-age=10000"), notCached: true, has: kv("CDN-Cache-Control", "private")},
				{resp: kv("CDN-Cache-Control", "private", "Cache-Control", "max-age=10000"), notCached: true, has: kv("CDN-Cache-Control", "private")},
			}},
		{name: "RFC 9213 §2.2, §3.1: CDN-Cache-Control: max-age=3600 over Cache-Control: no-store is stored, and forwarded on a miss and a hit",
			steps: []aStep{
				{resp: kv("CDN-Cache-Control", "max-age=3600", "Cache-Control", "no-store"), notCached: true, has: kv("CDN-Cache-Control", "max-age=3600")},
				{cached: true, has: kv("CDN-Cache-Control", "max-age=3600", "Cache-Control", "no-store")},
			}},
	})
}

// TestConformanceRealTime runs the cases that are about real seconds: a
// response with max-age=1 is stale two seconds later, and Age counts
// whole seconds resident here. The cases pause together, so the test
// takes about two seconds.
func TestConformanceRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("real pauses")
	}
	const pause = 2100 * time.Millisecond
	runConformance(t, []aCase{
		{name: "RFC 9111 §4.2.1: max-age=1 is stale two seconds later",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=1"), notCached: true, pause: pause}, {notCached: true}}},
		{name: "RFC 9111 §5.2.2.10: s-maxage=1 beats max-age=3600 for a shared cache",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=3600, s-maxage=1"), notCached: true, pause: pause}, {notCached: true}}},
		{name: "RFC 9111 §5.2.2.10: s-maxage=3600 beats max-age=1 for a shared cache",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=1, s-maxage=3600"), notCached: true, pause: pause}, {cached: true, ageMin: 2}}},
		{name: "RFC 9111 §4.2.3: Age on a hit counts the whole seconds resident here (Expires-based, no upstream Age)",
			steps: []aStep{{resp: kv("Expires", "@2592000", "Date", "@0"), notCached: true, pause: pause}, {cached: true, ageMin: 2}}},
		{name: "RFC 9111 §4.2.3: Age on a hit adds the upstream Age to the time resident here",
			steps: []aStep{{resp: kv("Cache-Control", "max-age=600", "Date", "@0", "Age", "30"), notCached: true, pause: pause}, {cached: true, ageMin: 32}}},
		{name: "RFC 9111 §5.2.2.2: must-revalidate: once stale, revalidated with If-None-Match",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=1, must-revalidate", "ETag", `"abcd"`), notCached: true},
				{cached: true, pause: pause},
				{status: 304, noBody: true, resp: kv("ETag", `"abcd"`), wantCode: 200, wantBody: sp("body1"), sent: kv("If-None-Match", `"abcd"`)},
			}},
		{name: "RFC 9111 §4.3.4: after a 304 with max-age=3600 the stored response is fresh again, with the updated field",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=1", "ETag", `"e"`, "Test-Header", "A"), notCached: true, pause: pause},
				{status: 304, noBody: true, resp: kv("Cache-Control", "max-age=3600", "ETag", `"e"`, "Test-Header", "B"), wantCode: 200, has: kv("Test-Header", "B"), sent: kv("If-None-Match", `"e"`)},
				{cached: true, has: kv("Test-Header", "B"), wantBody: sp("body1")},
			}},
		{name: "RFC 9111 §4.2.4, RFC 5861 §4: stale-if-error=60 answers an origin 503 after max-age=1 passed",
			steps: []aStep{
				{resp: kv("Cache-Control", "max-age=1, stale-if-error=60"), notCached: true, pause: pause},
				{status: 503, cached: true, wantBody: sp("body1")},
			}},
	})
}
