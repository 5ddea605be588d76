package httpcache_test

// This file is a black-box conformance suite: it drives the public
// middleware, over memstore on a fake clock, in front of a scripted origin
// that records the requests it sees, and checks what a client would see
// against the text of RFC 9111 (HTTP caching), RFC 9110 (HTTP semantics),
// RFC 5861 (stale-while-revalidate, stale-if-error), RFC 9211
// (Cache-Status) and RFC 9213 (targeted cache-control fields).
//
// Each case is a sequence of exchanges. An exchange is one client request,
// made after moving the clock; the origin's answer when the cache should
// (or may) ask it; and what the client must get: status, body, Age, header
// fields present or absent, the conditional fields the origin was sent,
// and whether the origin was asked at all. Every response is also checked
// for a well-formed Cache-Status member of this cache.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// t0 is where every case's clock starts: a whole second, so Date fields
// written by the origin say exactly what the clock says.
var t0 = time.Date(2030, time.March, 4, 12, 0, 0, 0, time.UTC)

const host = "http://example.test"

// hdr builds a header field list from name, value pairs, in order.
func hdr(kv ...string) [][2]string {
	if len(kv)%2 != 0 {
		panic("hdr: odd number of strings")
	}
	var out [][2]string
	for i := 0; i < len(kv); i += 2 {
		out = append(out, [2]string{kv[i], kv[i+1]})
	}
	return out
}

// resp is what the scripted origin answers.
type resp struct {
	status int         // 200 when zero
	header [][2]string // in order; repeated names make repeated lines
	body   string
	// date: by default the origin sends Date = the clock's time, as an
	// origin server with a clock must (RFC 9110 §6.6.1). noDate sends none;
	// a Date in header replaces it.
	noDate bool
	// panic makes the origin handler panic instead of answering.
	panic bool
}

// ex is one exchange of a case.
type ex struct {
	after   time.Duration // clock advance before the request
	method  string        // GET when empty
	path    string        // "/r" when empty
	header  [][2]string   // request header fields
	reqBody string        // request body

	// origin is the origin's answer. Nil means the cache must answer
	// without asking the origin; non-nil means it must ask, unless maybe.
	origin *resp
	// origin2 is the origin's answer to a second request within this
	// exchange (a cache that retries unconditionally after an unusable
	// 304); origin answers it when nil.
	origin2 *resp
	// maybe: the RFC lets the cache either ask the origin or not.
	maybe bool
	// background is the origin's answer to a refresh the cache must make
	// after it answered the client (stale-while-revalidate). The refresh
	// is held until the client's response has been checked, which proves
	// the client did not wait for it.
	background *resp
	// reopen closes the cache after this exchange (waiting for background
	// work) and opens a new one over the same store.
	reopen bool
	// setup runs before the request (to make the backend fail, say).
	setup func()

	// Expectations. Zero values are not checked, except where said.
	status int
	body   *string
	age    string      // exact Age value; "-" means no Age field
	has    [][2]string // fields the response must carry (value compared with all lines joined by ", ")
	hasNot []string    // fields the response must not carry
	sent   [][2]string // fields the origin must have been sent (joined as above)
	// notSent: fields the origin must not have been sent.
	notSent []string
	fwd     string // the fwd parameter expected in Cache-Status, when asked
	check   func(t *testing.T, r *result)
}

type result struct {
	status      int
	header      http.Header
	body        string
	originAsked bool
	originReq   http.Header // the header fields of the (last) request the origin saw
	member      map[string]string
	memberHit   bool
}

type conformanceCase struct {
	name string // with the RFC section
	opts httpcache.Options
	ex   []ex
	skip string // "known gap: ..." while the middleware fails it
}

func str(s string) *string { return &s }

// Common origin answers.
func ok(body string, kv ...string) *resp { return &resp{status: 200, body: body, header: hdr(kv...)} }
func status(code int, kv ...string) *resp {
	return &resp{status: code, body: "s" + strconv.Itoa(code), header: hdr(kv...)}
}
func notModified(kv ...string) *resp { return &resp{status: 304, header: hdr(kv...)} }
func noDate(r *resp) *resp           { r.noDate = true; return r }

func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// harness runs one case.
type harness struct {
	t     *testing.T
	clock *hitboxtest.Clock
	store *memstore.Store
	// backend is what the cache runs over: the store, or a wrapper of it.
	backend hitbox.Backend
	opts    httpcache.Options
	cache   *httpcache.Cache
	h       http.Handler

	mu       sync.Mutex
	current  *ex
	asked    int
	lastReq  http.Header
	bgCalled chan struct{}
	release  chan struct{}
}

func newHarness(t *testing.T, opts httpcache.Options) *harness {
	clock := hitboxtest.NewClock(t0)
	store, err := memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = clock.Now
	// The background exchanges hold the refresh until the client's response
	// has been checked, which needs the refresh on a goroutine of its own, as
	// examples/proxy runs it (its origin handler reads nothing a router
	// recycles). The default, inline refresh has tests of its own.
	opts.DetachedRefresh = true
	h := &harness{t: t, clock: clock, store: store, opts: opts}
	h.open()
	t.Cleanup(func() {
		_ = h.cache.Close()
		_ = store.Close()
	})
	return h
}

func (h *harness) open() {
	if h.backend == nil {
		h.backend = h.store
	}
	h.cache = httpcache.New(h.backend, h.opts)
	h.h = h.cache.Middleware(http.HandlerFunc(h.origin))
}

// origin answers as the current exchange scripts it.
func (h *harness) origin(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	cur := h.current
	var answer *resp
	background := false
	switch {
	case cur == nil:
	case cur.background != nil && h.bgCalled != nil:
		answer, background = cur.background, true
	case cur.origin2 != nil && h.asked > 0:
		answer = cur.origin2
	default:
		answer = cur.origin
	}
	h.asked++
	h.lastReq = r.Header.Clone()
	h.mu.Unlock()

	if background {
		close(h.bgCalled)
		<-h.release
	}
	if answer == nil {
		h.t.Errorf("the origin was asked %s %s (%v), but this exchange scripts no origin answer", r.Method, r.URL, r.Header)
		w.WriteHeader(599)
		return
	}
	if answer.panic {
		panic("origin handler panics")
	}
	for _, f := range answer.header {
		w.Header().Add(f[0], f[1])
	}
	if !answer.noDate && w.Header().Get("Date") == "" {
		w.Header().Set("Date", httpDate(h.clock.Now()))
	}
	code := answer.status
	if code == 0 {
		code = 200
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead && code != 304 && code != 204 {
		_, _ = io.WriteString(w, answer.body)
	}
}

func (h *harness) do(i int, e ex) {
	t := h.t
	t.Helper()
	h.clock.Advance(e.after)
	if e.setup != nil {
		e.setup()
	}
	method := e.method
	if method == "" {
		method = http.MethodGet
	}
	path := e.path
	if path == "" {
		path = "/r"
	}
	var body io.Reader
	if e.reqBody != "" {
		body = strings.NewReader(e.reqBody)
	}
	target := host + path
	if strings.HasPrefix(path, "http") {
		target = path
	}
	req := httptest.NewRequest(method, target, body)
	for _, f := range e.header {
		req.Header.Add(f[0], f[1])
	}
	label := fmt.Sprintf("exchange %d (%s %s at +%s)", i+1, method, path, h.clock.Now().Sub(t0))

	h.mu.Lock()
	h.current = &e
	h.asked = 0
	h.lastReq = nil
	if e.background != nil {
		h.bgCalled = make(chan struct{})
		h.release = make(chan struct{})
	}
	h.mu.Unlock()

	rec := httptest.NewRecorder()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		h.h.ServeHTTP(rec, req)
	}()
	var p any
	select {
	case p = <-done:
	case <-time.After(20 * time.Second):
		// Only a middleware that waits for a held background refresh
		// gets here: release it so the test ends, and report.
		t.Errorf("%s: no response while the background refresh was held: the client waited for it (RFC 5861 §3)", label)
		if e.background != nil {
			close(h.release)
			e.background = nil
		}
		p = <-done
	}
	if p != nil {
		t.Errorf("%s: the middleware panicked: %v", label, p)
		return
	}

	h.mu.Lock()
	r := &result{
		status:      rec.Code,
		header:      rec.Result().Header,
		body:        rec.Body.String(),
		originAsked: h.asked > 0,
		originReq:   h.lastReq,
	}
	if e.background != nil {
		// The refresh is not counted as the client's origin request.
		r.originAsked = h.asked > 1 || (h.asked == 1 && !isClosed(h.bgCalled))
	}
	h.mu.Unlock()

	h.verify(label, e, r)

	if e.background != nil {
		select {
		case <-h.bgCalled:
		case <-time.After(20 * time.Second):
			t.Errorf("%s: no background refresh reached the origin (RFC 5861 §3)", label)
		}
		close(h.release)
		// Close waits for the refresh to be stored.
		_ = h.cache.Close()
		h.open()
		h.mu.Lock()
		h.bgCalled = nil
		h.mu.Unlock()
	} else if e.reopen {
		_ = h.cache.Close()
		h.open()
	}
	h.mu.Lock()
	h.current = nil
	h.mu.Unlock()
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (h *harness) verify(label string, e ex, r *result) {
	t := h.t
	t.Helper()
	switch {
	case e.maybe:
	case e.origin == nil && r.originAsked:
		t.Errorf("%s: the origin was asked; want the response from the cache", label)
	case e.origin != nil && !r.originAsked:
		t.Errorf("%s: answered from the cache; want the origin asked", label)
	}
	if e.status != 0 && r.status != e.status {
		t.Errorf("%s: status %d, want %d", label, r.status, e.status)
	}
	if e.body != nil && r.body != *e.body {
		t.Errorf("%s: body %q, want %q", label, r.body, *e.body)
	}
	switch e.age {
	case "":
	case "-":
		if v := r.header.Values("Age"); len(v) > 0 {
			t.Errorf("%s: Age %q, want none", label, v)
		}
	default:
		if v := strings.Join(r.header.Values("Age"), ", "); v != e.age {
			t.Errorf("%s: Age %q, want %q (RFC 9111 §4.2.3)", label, v, e.age)
		}
	}
	for _, f := range e.has {
		if v := strings.Join(r.header.Values(f[0]), ", "); v != f[1] {
			t.Errorf("%s: %s %q, want %q", label, f[0], v, f[1])
		}
	}
	for _, name := range e.hasNot {
		if v := r.header.Values(name); len(v) > 0 {
			t.Errorf("%s: %s %q, want none", label, name, v)
		}
	}
	if r.originAsked {
		for _, f := range e.sent {
			if v := strings.Join(r.originReq.Values(f[0]), ", "); v != f[1] {
				t.Errorf("%s: the origin was sent %s %q, want %q", label, f[0], v, f[1])
			}
		}
		for _, name := range e.notSent {
			if v := r.originReq.Values(name); len(v) > 0 {
				t.Errorf("%s: the origin was sent %s %q, want none", label, name, v)
			}
		}
	} else if len(e.sent) > 0 && !e.maybe {
		t.Errorf("%s: the origin was not asked, want it sent %v", label, e.sent)
	}
	h.checkCacheStatus(label, e, r)
	if e.check != nil {
		e.check(t, r)
	}
}

// checkCacheStatus checks the syntax of the Cache-Status field (RFC 9211
// §2: an sf-list, one member per cache, the cache nearest the client
// last) and that this cache's member says what happened.
func (h *harness) checkCacheStatus(label string, e ex, r *result) {
	t := h.t
	t.Helper()
	name := h.opts.CacheName
	if name == "" {
		name = "hitbox"
	}
	if e.status == http.StatusGatewayTimeout && !r.originAsked {
		// A 504 for only-if-cached is generated here, not from a stored
		// response: RFC 9211 §2 says not to add a member (but allows it).
		return
	}
	raw := strings.Join(r.header.Values("Cache-Status"), ", ")
	members, err := parseCacheStatus(raw)
	if err != nil {
		t.Errorf("%s: Cache-Status %q: %v (RFC 9211 §2)", label, raw, err)
		return
	}
	if len(members) == 0 {
		t.Errorf("%s: no Cache-Status (RFC 9211 §2)", label)
		return
	}
	last := members[len(members)-1]
	if last.name != name {
		t.Errorf("%s: Cache-Status %q: the last member is %q, want this cache, %q (RFC 9211 §2: the cache nearest the user is last)", label, raw, last.name, name)
		return
	}
	r.member = last.params
	_, isHit := last.params["hit"]
	fwd, isFwd := last.params["fwd"]
	r.memberHit = isHit
	if isHit && isFwd {
		t.Errorf("%s: Cache-Status %q has both hit and fwd (RFC 9211 §2.1, §2.2)", label, raw)
	}
	for _, p := range []string{"stored", "collapsed", "fwd-status"} {
		if _, ok := last.params[p]; ok && !isFwd {
			t.Errorf("%s: Cache-Status %q: %s without fwd (RFC 9211 §2.3-2.5)", label, raw, p)
		}
	}
	if isFwd && !slices.Contains([]string{"bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial"}, fwd) {
		t.Errorf("%s: Cache-Status fwd=%s is not a value RFC 9211 §2.2 defines", label, fwd)
	}
	if v, ok := last.params["ttl"]; ok {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			t.Errorf("%s: Cache-Status ttl=%s is not an sf-integer (RFC 9211 §2.6)", label, v)
		}
	}
	if v, ok := last.params["fwd-status"]; ok {
		if _, err := strconv.Atoi(v); err != nil {
			t.Errorf("%s: Cache-Status fwd-status=%s is not an sf-integer (RFC 9211 §2.3)", label, v)
		}
	}
	if e.maybe {
		return
	}
	switch {
	case !r.originAsked && !isHit:
		t.Errorf("%s: Cache-Status %q: answered from the cache without hit (RFC 9211 §2.1)", label, raw)
	case r.originAsked && !isFwd:
		t.Errorf("%s: Cache-Status %q: the origin was asked, but no fwd (RFC 9211 §2.2)", label, raw)
	}
	if e.fwd != "" && fwd != e.fwd {
		t.Errorf("%s: Cache-Status %q: fwd=%s, want fwd=%s (RFC 9211 §2.2)", label, raw, fwd, e.fwd)
	}
}

type sfMember struct {
	name   string
	params map[string]string
}

// parseCacheStatus is a small sf-list parser (RFC 8941 §4.2.1) for items
// that are tokens or strings with parameters whose values are tokens,
// strings, integers or booleans: all Cache-Status uses.
func parseCacheStatus(s string) ([]sfMember, error) {
	var out []sfMember
	i := 0
	skipSP := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	bare := func() (string, error) {
		if i < len(s) && s[i] == '"' {
			j := i + 1
			var b strings.Builder
			for ; j < len(s); j++ {
				switch c := s[j]; {
				case c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\'):
					b.WriteByte(s[j+1])
					j++
				case c == '"':
					i = j + 1
					return b.String(), nil
				case c < 0x20 || c > 0x7e || c == '\\':
					return "", fmt.Errorf("bad character in sf-string at %d", j)
				default:
					b.WriteByte(c)
				}
			}
			return "", fmt.Errorf("unterminated sf-string")
		}
		j := i
		if j < len(s) && s[j] == '?' { // boolean
			if j+1 < len(s) && (s[j+1] == '0' || s[j+1] == '1') {
				i = j + 2
				return s[j : j+2], nil
			}
			return "", fmt.Errorf("bad sf-boolean at %d", j)
		}
		if j < len(s) && (s[j] == '-' || s[j] >= '0' && s[j] <= '9') { // integer
			j++
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j-i > 16 || s[i:j] == "-" {
				return "", fmt.Errorf("bad sf-integer %q", s[i:j])
			}
			tok := s[i:j]
			i = j
			return tok, nil
		}
		if j >= len(s) || !(s[j] == '*' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
			return "", fmt.Errorf("expected an item at %d", j)
		}
		for j < len(s) && (strings.IndexByte("!#$%&'*+-.^_`|~:/", s[j]) >= 0 || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		tok := s[i:j]
		i = j
		return tok, nil
	}
	key := func() (string, error) {
		j := i
		if j >= len(s) || !(s[j] == '*' || s[j] >= 'a' && s[j] <= 'z') {
			return "", fmt.Errorf("expected a parameter key at %d", j)
		}
		for j < len(s) && (strings.IndexByte("_-.*", s[j]) >= 0 || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		k := s[i:j]
		i = j
		return k, nil
	}
	skipSP()
	if i == len(s) {
		return nil, nil
	}
	for {
		name, err := bare()
		if err != nil {
			return nil, err
		}
		m := sfMember{name: name, params: map[string]string{}}
		for i < len(s) && s[i] == ';' {
			i++
			skipSP()
			k, err := key()
			if err != nil {
				return nil, err
			}
			v := "?1"
			if i < len(s) && s[i] == '=' {
				i++
				if v, err = bare(); err != nil {
					return nil, err
				}
			}
			m.params[k] = v
		}
		out = append(out, m)
		skipSP()
		if i == len(s) {
			return out, nil
		}
		if s[i] != ',' {
			return nil, fmt.Errorf("expected ',' at %d", i)
		}
		i++
		skipSP()
		if i == len(s) {
			return nil, fmt.Errorf("trailing comma")
		}
	}
}

func runCases(t *testing.T, cases []conformanceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.skip != "" {
				t.Skip(c.skip)
			}
			h := newHarness(t, c.opts)
			for i, e := range c.ex {
				h.do(i, e)
			}
		})
	}
}

// Helpers that keep the tables short.

// miss expects the origin asked and its answer passed to the client.
func miss(r *resp) ex {
	code := r.status
	if code == 0 {
		code = 200
	}
	body := r.body
	if code == 204 || code == 304 {
		body = ""
	}
	return ex{origin: r, status: code, body: str(body)}
}

// missAt is miss after the clock moved by d.
func missAt(d time.Duration, r *resp) ex { e := miss(r); e.after = d; return e }

// hitAt expects a 200 with body from the cache after the clock moved by d,
// with the given Age ("" not checked).
func hitAt(d time.Duration, body, age string) ex {
	return ex{after: d, status: 200, body: str(body), age: age}
}

// with returns e with request header fields added.
func (e ex) with(kv ...string) ex { e.header = append(slices.Clip(e.header), hdr(kv...)...); return e }

// to returns e for another method and path.
func (e ex) to(method, path string) ex { e.method, e.path = method, path; return e }

// expect returns e with response fields that must be present.
func (e ex) expect(kv ...string) ex { e.has = append(slices.Clip(e.has), hdr(kv...)...); return e }

// without returns e with response fields that must be absent.
func (e ex) without(names ...string) ex { e.hasNot = append(slices.Clip(e.hasNot), names...); return e }

// sending returns e with fields the origin must have been sent.
func (e ex) sending(kv ...string) ex { e.sent = append(slices.Clip(e.sent), hdr(kv...)...); return e }

// fwdIs returns e expecting Cache-Status fwd=v.
func (e ex) fwdIs(v string) ex { e.fwd = v; return e }

// then adds a custom check.
func (e ex) then(f func(t *testing.T, r *result)) ex { e.check = f; return e }

const sec = time.Second

func ago(d time.Duration) string { return httpDate(t0.Add(-d)) }

func TestConformanceFreshness(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §4.2.1, §5.2.2.1: max-age makes the response fresh for that long; it is reused with its age, and not once its age reaches the lifetime",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).fwdIs("uri-miss"),
				hitAt(10*sec, "a", "10"),
				hitAt(89*sec, "a", "99"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")).fwdIs("stale"),
				hitAt(1*sec, "b", "1"),
			}},
		{name: "RFC 9111 §4.2.1, §5.2.2.10: a shared cache takes s-maxage over a shorter max-age",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, s-maxage=100")),
				hitAt(50*sec, "a", "50"),
			}},
		{name: "RFC 9111 §4.2.1, §5.2.2.10: a shared cache takes s-maxage over a longer max-age",
			ex: []ex{
				miss(ok("a", "Cache-Control", "s-maxage=10, max-age=100")),
				hitAt(5*sec, "a", "5"),
				missAt(10*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.2.2.10: a private cache ignores s-maxage",
			opts: httpcache.Options{Private: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "s-maxage=1, max-age=100")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §4.2.1, §5.3: without max-age, Expires minus Date is the lifetime",
			ex: []ex{
				miss(ok("a", "Expires", httpDate(t0.Add(100*sec)))),
				hitAt(50*sec, "a", "50"),
				missAt(50*sec, ok("b")),
			}},
		{name: "RFC 9110 §5.6.7, RFC 9111 §5.3: Expires in the obsolete RFC 850 format is understood",
			ex: []ex{
				miss(ok("a", "Expires", strings.Replace(t0.Add(100*sec).Format(time.RFC850), "UTC", "GMT", 1))),
				hitAt(50*sec, "a", "50"),
			}},
		{name: "RFC 9110 §5.6.7, RFC 9111 §5.3: Expires in the obsolete asctime format is understood",
			ex: []ex{
				miss(ok("a", "Expires", t0.Add(100*sec).Format(time.ANSIC))),
				hitAt(50*sec, "a", "50"),
			}},
		{name: "RFC 9111 §5.3: max-age takes precedence over an Expires in the past",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Expires", ago(time.Hour))),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.3: max-age takes precedence over an invalid Expires (0)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Expires", "0")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.3: Expires: 0 is an invalid date, so the response is already expired",
			ex: []ex{
				miss(ok("a", "Expires", "0")),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.3, §4.2.2: an invalid Expires is an explicit expiry in the past, so Last-Modified gives no heuristic freshness",
			ex: []ex{
				miss(ok("a", "Expires", "0", "Last-Modified", ago(100*24*time.Hour))),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.3: an Expires that is not a date is already expired",
			ex: []ex{
				miss(ok("a", "Expires", "next tuesday")),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.3: an Expires equal to Date is already expired",
			ex: []ex{
				miss(ok("a", "Expires", httpDate(t0))),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.3: an Expires before Date is already expired",
			ex: []ex{
				miss(ok("a", "Expires", ago(time.Hour))),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.1, RFC 9110 §6.6.1: without Date, Expires counts from the time the response was received",
			ex: []ex{
				miss(noDate(ok("a", "Expires", httpDate(t0.Add(100*sec))))),
				hitAt(50*sec, "a", "50"),
			}},
		{name: "RFC 9110 §6.6.1: a response without Date is given one by the cache, and keeps it when served from the cache",
			ex: []ex{
				miss(noDate(ok("a", "Cache-Control", "max-age=100"))).expect("Date", httpDate(t0)),
				hitAt(10*sec, "a", "10").expect("Date", httpDate(t0)),
			}},
		{name: "RFC 9111 §4.2.2: a 200 with Last-Modified and no explicit lifetime is fresh for a heuristic time (a fraction of its age)",
			ex: []ex{
				miss(ok("a", "Last-Modified", ago(100000*sec))),
				hitAt(100*sec, "a", "100"),
				missAt(100000*sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.2, RFC 9110 §5.6.7: Last-Modified in asctime format still gives heuristic freshness",
			ex: []ex{
				miss(ok("a", "Last-Modified", t0.Add(-100000*sec).Format(time.ANSIC))),
				hitAt(100*sec, "a", "100"),
			}},
		{name: "RFC 9111 §4.2.2: a Last-Modified that is not a date gives no heuristic freshness",
			ex: []ex{
				miss(ok("a", "Last-Modified", "a while ago")),
				missAt(10*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.3: Expires: -1 is invalid, so already expired",
			ex: []ex{
				miss(ok("a", "Expires", "-1")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.2: no heuristic freshness when max-age is present",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "Last-Modified", ago(100000*sec))),
				missAt(10*sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.2: no heuristic freshness from a Last-Modified later than Date",
			ex: []ex{
				miss(ok("a", "Last-Modified", httpDate(t0.Add(time.Hour)))),
				missAt(10*sec, ok("b")),
			}},
		{name: "RFC 9111 §3: a response with neither freshness nor validators is not reused",
			ex: []ex{
				miss(ok("a")),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.2 (a heuristic the cache may choose): Options.DefaultTTL gives freshness to a response that has none",
			opts: httpcache.Options{DefaultTTL: time.Minute},
			ex: []ex{
				miss(ok("a")),
				hitAt(30*sec, "a", "30"),
				missAt(30*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.2.2.5: a response with no-store is not stored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "no-store, max-age=100")).then(notStored),
				missAt(1*sec, ok("b", "Cache-Control", "no-store")),
			}},
		{name: "RFC 9111 §5.2.2.4: a response with no-cache and a validator is stored but validated before each reuse",
			ex: []ex{
				miss(ok("a", "Cache-Control", "no-cache", "ETag", `"v1"`)),
				ex{after: sec, origin: notModified("ETag", `"v1"`), status: 200, body: str("a")}.sending("If-None-Match", `"v1"`),
				ex{after: sec, origin: notModified("ETag", `"v1"`), status: 200, body: str("a")}.sending("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9111 §5.2.2.4: no-cache overrides max-age (the more restrictive directive wins, §4.2.1)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100, no-cache")),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100, no-cache")),
			}},
		{name: "RFC 9111 §5.2.2.4: with no-cache=\"X-Secret\" a stored response may be reused, but not with X-Secret unless validated",
			ex: []ex{
				miss(ok("a", "Cache-Control", `max-age=100, no-cache="X-Secret"`, "X-Secret", "s", "X-Other", "o")),
				ex{after: sec, maybe: true, origin: ok("a", "Cache-Control", `max-age=100, no-cache="X-Secret"`, "X-Secret", "s", "X-Other", "o"), status: 200, body: str("a")}.
					then(func(t *testing.T, r *result) {
						if !r.originAsked && r.header.Get("X-Secret") != "" {
							t.Errorf("reused without validation with X-Secret %q", r.header.Get("X-Secret"))
						}
						if r.header.Get("X-Other") != "o" {
							t.Errorf("X-Other %q, want o", r.header.Get("X-Other"))
						}
					}),
			}},
		{name: "RFC 9111 §5.2.2.4, §3.1: a fresh response with no-cache=\"a\" (on its own Cache-Control line) is reused without field a",
			ex: []ex{
				miss(ok("x", "Cache-Control", `no-cache="a"`, "Cache-Control", "max-age=100", "a", "1", "b", "2")),
				hitAt(sec, "x", "1").without("a").expect("b", "2"),
			}},
		{name: "RFC 9111 §5.2.2.4, §3.1: no-cache=\"a, b\" names two fields, both left out on reuse",
			ex: []ex{
				miss(ok("x", "Cache-Control", `no-cache="a, b", max-age=100`, "a", "1", "b", "2", "c", "3")),
				hitAt(sec, "x", "1").without("a", "b").expect("c", "3"),
			}},
		{name: "RFC 9111 §4.1: a request Cookie does not stop reuse (it is not in Vary)",
			ex: []ex{
				miss(ok("x", "Cache-Control", "max-age=100")),
				hitAt(sec, "x", "1").with("Cookie", "a=b"),
			}},
		{name: "RFC 9111 §5.2.2.7: a shared cache does not store a private response",
			ex: []ex{
				miss(ok("a", "Cache-Control", "private, max-age=100")).then(notStored),
				missAt(1*sec, ok("b", "Cache-Control", "private, max-age=100")),
			}},
		{name: "RFC 9111 §5.2.2.7: a private cache stores a private response",
			opts: httpcache.Options{Private: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "private, max-age=100")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.2.2.7: with private=\"X-Secret\" a shared cache may store the response, but never X-Secret",
			ex: []ex{
				miss(ok("a", "Cache-Control", `private="X-Secret", max-age=100`, "X-Secret", "s", "X-Other", "o")),
				ex{after: sec, maybe: true, origin: ok("b", "Cache-Control", `private="X-Secret", max-age=100`, "X-Secret", "s2", "X-Other", "o")}.
					then(func(t *testing.T, r *result) {
						if !r.originAsked && (r.header.Get("X-Secret") != "" || r.body != "a" || r.header.Get("X-Other") != "o") {
							t.Errorf("from the cache: body %q, X-Secret %q, X-Other %q; want a, none, o", r.body, r.header.Get("X-Secret"), r.header.Get("X-Other"))
						}
					}),
			}},
		{name: "RFC 9111 §5.2.2.2: must-revalidate leaves a fresh response reusable",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100, must-revalidate")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.2.2.2: must-revalidate: a stale response is not reused even when the request accepts stale ones",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, must-revalidate", "ETag", `"v1"`)),
				ex{after: 10 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=1, must-revalidate"), status: 200, body: str("a")}.
					with("Cache-Control", "max-stale=1000").sending("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9111 §5.2.2.10: s-maxage carries proxy-revalidate: a shared cache does not serve it stale, even to max-stale",
			ex: []ex{
				miss(ok("a", "Cache-Control", "s-maxage=1")),
				missAt(10*sec, ok("b", "Cache-Control", "s-maxage=1")).with("Cache-Control", "max-stale=1000"),
			}},
		{name: "RFC 9111 §5.2.2.4: a no-cache response is validated even for a request with max-stale",
			ex: []ex{
				miss(ok("a", "Cache-Control", "no-cache, max-age=100")),
				missAt(sec, ok("b", "Cache-Control", "no-cache, max-age=100")).with("Cache-Control", "max-stale=1000"),
			}},
		{name: "hitbox Options.MaxHeuristic (24h by default) caps heuristic freshness",
			ex: []ex{
				miss(ok("a", "Last-Modified", ago(1000*24*time.Hour))),
				hitAt(23*time.Hour, "a", "82800"),
				missAt(2*time.Hour, ok("b")),
			}},
		{name: "RFC 9111 §4.2.2: Options.DefaultTTL is a heuristic, so it gives no freshness to a status that is not heuristically cacheable",
			opts: httpcache.Options{DefaultTTL: time.Minute},
			ex: []ex{
				miss(status(500)),
				missAt(sec, status(500)),
			}},
		{name: "RFC 9111 §4.2.2: Options.DefaultTTL never overrides an explicit max-age=0",
			opts: httpcache.Options{DefaultTTL: time.Minute},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=0")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.3: Age from upstream counts against a lifetime from Expires too",
			ex: []ex{
				miss(ok("a", "Expires", httpDate(t0.Add(100*sec)), "Age", "30")),
				hitAt(60*sec, "a", "90"),
				missAt(11*sec, ok("b")),
			}},
		{name: "RFC 9111 §5.2.2.8: proxy-revalidate binds a shared cache like must-revalidate",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, proxy-revalidate")),
				missAt(10*sec, ok("b", "Cache-Control", "max-age=1, proxy-revalidate")).with("Cache-Control", "max-stale=1000"),
			}},
		{name: "RFC 9111 §5.2.2.8: a private cache ignores proxy-revalidate: a request with max-stale gets the stale response",
			opts: httpcache.Options{Private: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, proxy-revalidate")),
				hitAt(10*sec, "a", "10").with("Cache-Control", "max-stale=1000"),
			}},
		{name: "RFC 9111 §5.2.2.7: a private cache keeps the fields a qualified private names",
			opts: httpcache.Options{Private: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", `private="X-Secret", max-age=100`, "X-Secret", "s")),
				hitAt(sec, "a", "1").expect("X-Secret", "s"),
			}},
		{name: "RFC 9111 §3.5: a response to a request with Authorization is not stored by a shared cache without public, s-maxage or must-revalidate",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).with("Authorization", "Basic dTpw"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")).with("Authorization", "Basic dTpw"),
			}},
		{name: "RFC 9111 §3.5, §5.2.2.9: public lets a shared cache store a response to a request with Authorization",
			ex: []ex{
				miss(ok("a", "Cache-Control", "public, max-age=100")).with("Authorization", "Basic dTpw"),
				hitAt(1*sec, "a", "1").with("Authorization", "Basic dTpw"),
			}},
		{name: "RFC 9111 §3.5, §5.2.2.10: s-maxage lets a shared cache store a response to a request with Authorization",
			ex: []ex{
				miss(ok("a", "Cache-Control", "s-maxage=100")).with("Authorization", "Basic dTpw"),
				hitAt(1*sec, "a", "1").with("Authorization", "Basic dTpw"),
			}},
		{name: "RFC 9111 §3.5, §5.2.2.2: must-revalidate lets a shared cache store a response to a request with Authorization",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100, must-revalidate")).with("Authorization", "Basic dTpw"),
				hitAt(1*sec, "a", "1").with("Authorization", "Basic dTpw"),
			}},
		{name: "RFC 9111 §3.5: a private cache stores a response to a request with Authorization",
			opts: httpcache.Options{Private: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).with("Authorization", "Basic dTpw"),
				hitAt(1*sec, "a", "1").with("Authorization", "Basic dTpw"),
			}},
		{name: "RFC 9111 §5.2.2.3: must-understand with a status the cache understands overrides no-store",
			ex: []ex{
				miss(ok("a", "Cache-Control", "must-understand, no-store, max-age=100")),
				hitAt(1*sec, "a", "1"),
			}},
		{name: "RFC 9111 §5.2.2.3: must-understand with a status the cache does not understand: not stored",
			ex: []ex{
				miss(status(299, "Cache-Control", "must-understand, no-store, max-age=100")),
				missAt(1*sec, status(299, "Cache-Control", "must-understand, no-store, max-age=100")),
			}},
		{name: "hitbox Options.StoreSetCookie (off by default): a response with Set-Cookie is not stored, so one user's cookie never reaches another",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Set-Cookie", "id=1")),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100", "Set-Cookie", "id=2")),
			}},
		{name: "RFC 9111 §3: a response to POST is not reused for a GET",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).to("POST", "/r"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")),
			}},
		{name: "RFC 9111 §4.2.1: two Expires lines, the first in the past: stale whichever rule is used (first occurrence or stale)",
			ex: []ex{
				miss(ok("a", "Expires", ago(time.Hour), "Expires", httpDate(t0.Add(time.Hour)))),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.1: public and private together: the more restrictive (private) is followed by a shared cache",
			ex: []ex{
				miss(ok("a", "Cache-Control", "public, private, max-age=100")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9111 §5.2.2.10: s-maxage=0 makes the response stale at once for a shared cache, whatever max-age says",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100, s-maxage=0")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9111 §5.2.2.1: max-age=0 makes the response stale at once",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=0")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.2: heuristic freshness applies to a URI with a query too (the RFC 2616 exception is gone)",
			ex: []ex{
				miss(ok("a", "Last-Modified", ago(100000*sec))).to("GET", "/r?q=1"),
				hitAt(100*sec, "a", "100").to("GET", "/r?q=1"),
			}},
		{name: "RFC 9111 §4.1, §2: the target URI's host is part of the key: another host is another resource",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				missAt(sec, ok("b", "Cache-Control", "max-age=100")).to("GET", "http://other.test/r"),
				hitAt(sec, "a", "2"),
				hitAt(sec, "b", "2").to("GET", "http://other.test/r"),
			}},
		{name: "RFC 9111 §4.1, §2: the query is part of the key",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).to("GET", "/r?x=1"),
				missAt(sec, ok("b", "Cache-Control", "max-age=100")).to("GET", "/r?x=2"),
				hitAt(sec, "a", "2").to("GET", "/r?x=1"),
			}},
		{name: "RFC 9111 §3: an empty 200 body is stored and served empty",
			ex: []ex{
				miss(ok("", "Cache-Control", "max-age=100")),
				hitAt(sec, "", "1").then(contentLength(0)),
			}},
		{name: "hitbox Options.MaxBodySize: a larger body passes through whole and is not stored",
			opts: httpcache.Options{MaxBodySize: 10},
			ex: []ex{
				miss(ok("0123456789abcdef", "Cache-Control", "max-age=100")),
				missAt(1*sec, ok("0123456789abcdef", "Cache-Control", "max-age=100")),
			}},
	})
}

// notStored checks that Cache-Status does not say stored.
func notStored(t *testing.T, r *result) {
	t.Helper()
	if _, ok := r.member["stored"]; ok {
		t.Errorf("Cache-Status says stored for a response that must not be stored")
	}
}

func TestConformanceHeuristicStatus(t *testing.T) {
	t.Parallel()
	var cases []conformanceCase
	// RFC 9110 §15.1: heuristically cacheable status codes.
	for _, code := range []int{200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501} {
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9110 §15.1, RFC 9111 §4.2.2: %d is heuristically cacheable: Last-Modified alone makes it fresh for a while", code),
			ex: []ex{
				miss(status(code, "Last-Modified", ago(100000*sec))),
				{after: 100 * sec, status: code, age: "100"},
			},
		})
	}
	for _, code := range []int{302, 303, 307, 400, 403, 500, 502, 503} {
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §3, §4.2.2: %d is not heuristically cacheable: with Last-Modified alone it is not reused", code),
			ex: []ex{
				miss(status(code, "Last-Modified", ago(100000*sec))),
				missAt(10*sec, status(code, "Last-Modified", ago(100000*sec))),
			},
		})
	}
	for _, code := range []int{302, 307, 500} {
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §3: %d with explicit freshness (max-age) is stored and reused", code),
			ex: []ex{
				miss(status(code, "Cache-Control", "max-age=100")),
				{after: 10 * sec, status: code, age: "10", body: str(fmt.Sprintf("s%d", code))},
			},
		})
	}
	runCases(t, cases)
}

// TestConformanceStatusFreshness covers every status class with explicit
// and heuristic freshness.
func TestConformanceStatusFreshness(t *testing.T) {
	t.Parallel()
	var cases []conformanceCase
	for _, code := range []int{200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599} {
		body := fmt.Sprintf("s%d", code)
		if code == 204 {
			body = ""
		}
		cases = append(cases,
			conformanceCase{
				name: fmt.Sprintf("RFC 9111 §3, §4.2.1: a %d with max-age and a later Expires is stored and reused while fresh", code),
				ex: []ex{
					miss(status(code, "Cache-Control", "max-age=100000", "Expires", httpDate(t0.Add(100000*sec)), "Last-Modified", httpDate(t0))),
					{after: 10 * sec, status: code, age: "10", body: str(body)},
				},
			},
			conformanceCase{
				name: fmt.Sprintf("RFC 9111 §4.2.1, §4.2.2: a %d whose Expires is before Date is stale, and Last-Modified gives it no heuristic freshness", code),
				ex: []ex{
					miss(status(code, "Expires", ago(5000*sec), "Last-Modified", ago(100000*sec))),
					missAt(1*sec, ok("fresh")),
				},
			},
		)
	}
	// RFC 9110 §15.1: 201, 202, 403, 502, 503, 504 and unknown codes are
	// not heuristically cacheable.
	for _, code := range []int{201, 202, 504, 599} {
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §4.2.2, RFC 9110 §15.1: %d is not heuristically cacheable: Last-Modified alone does not make it reusable", code),
			ex: []ex{
				miss(status(code, "Last-Modified", ago(86400*sec))),
				missAt(10*sec, status(code, "Last-Modified", ago(86400*sec))),
			},
		})
	}
	cases = append(cases, conformanceCase{
		name: "RFC 9111 §4.2.2: public marks even an unknown status (599) explicitly cacheable, so Last-Modified gives it heuristic freshness",
		ex: []ex{
			miss(status(599, "Cache-Control", "public", "Last-Modified", ago(86400*sec))),
			{after: 10 * sec, status: 599, age: "10", body: str("s599")},
		},
	})
	runCases(t, cases)
}

func TestConformanceCacheControlParsing(t *testing.T) {
	t.Parallel()
	fresh := func(name, cc string) conformanceCase {
		return conformanceCase{name: name, ex: []ex{
			miss(ok("a", "Cache-Control", cc)),
			hitAt(10*sec, "a", "10"),
		}}
	}
	stale := func(name, cc string) conformanceCase {
		return conformanceCase{name: name, ex: []ex{
			miss(ok("a", "Cache-Control", cc)),
			missAt(1*sec, ok("b", "Cache-Control", cc)),
		}}
	}
	runCases(t, []conformanceCase{
		fresh("RFC 9111 §5.2: directive names are case-insensitive (MAX-AGE)", "MAX-AGE=100"),
		fresh("RFC 9111 §5.2: directive names are case-insensitive (Max-Age)", "Max-Age=100"),
		fresh("RFC 9111 §5.2: a quoted argument (max-age=\"100\") is accepted by a recipient", `max-age="100"`),
		fresh("RFC 9111 §5.2: empty list members and extra whitespace are ignored", ` , ,max-age=100 ,, `),
		fresh("RFC 9111 §5.2.3: unknown directives, with and without arguments, are ignored", `foo, max-age=100, bar=baz, qux="a, b"`),
		fresh("RFC 9111 §5.2, RFC 9110 §5.6.4: a comma inside a quoted argument does not end the directive (no-store there is not a directive)", `ext="x,no-store,y", max-age=100`),
		fresh("RFC 9111 §5.2: a directive name is matched whole (max-agex is not max-age, no-storex not no-store)", `no-storex, max-age=100, max-agex=1`),
		stale("RFC 9111 §5.2, RFC 9110 §5.6.4: max-age inside an extension's quoted string, before the real max-age=1, is not a directive", `extension="max-age=3600", max-age=1`),
		stale("RFC 9111 §5.2, RFC 9110 §5.6.4: max-age inside an extension's quoted string, after the real max-age=1, is not a directive", `max-age=1, extension="max-age=3600"`),
		fresh("RFC 9111 §1.2.2: a delta-seconds beyond 2^31 is taken as 2^31 (fresh a long time)", "max-age=99999999999999999999"),
		stale("RFC 9111 §4.2.1: max-age twice with different values: the first (1) is used or the response is stale", "max-age=1, max-age=100"),
		fresh("RFC 9111 §1.2.2: delta-seconds with leading zeros is a valid number (0100 is 100)", "max-age=0100"),
		stale("RFC 9111 §5.2: single quotes are not quoting: max-age='100' is invalid", "max-age='100'"),
		stale("RFC 9111 §1.2.2: a max-age with trailing garbage (100s) is invalid", "max-age=100s"),
		stale("RFC 9111 §1.2.2, §4.2.1: a negative max-age is invalid: the response is not fresh", "max-age=-1"),
		stale("RFC 9111 §1.2.2, §4.2.1: a max-age that is not a number is invalid: the response is not fresh", "max-age=abc"),
		stale("RFC 9111 §1.2.2, §4.2.1: a fractional max-age is invalid: the response is not fresh", "max-age=1.5"),
		stale("RFC 9111 §1.2.2, §4.2.1: an empty max-age is invalid: the response is not fresh", "max-age="),
		stale("RFC 9111 §5.2: NO-STORE in capitals is no-store", "NO-STORE, max-age=100"),
		stale("RFC 9111 §4.2.1: conflicting directives (max-age and no-store): the most restrictive wins", "max-age=100, no-store"),
		fresh("RFC 9111 §5.2: s-maxage with a quoted value is accepted", `s-maxage="100"`),
		{name: "RFC 9110 §5.3, RFC 9111 §5.2: Cache-Control over several field lines is one list (no-store on the second line counts)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Cache-Control", "no-store")),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")),
			}},
		{name: "RFC 9110 §5.3: max-age on a second Cache-Control line is used",
			ex: []ex{
				miss(ok("a", "Cache-Control", "public", "Cache-Control", "max-age=100")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.2.1: request directive names are case-insensitive (NO-CACHE)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")).with("Cache-Control", "NO-CACHE"),
			}},
		{name: "RFC 9111 §5.2.1.1: a request max-age with a quoted value is accepted",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				missAt(10*sec, ok("b", "Cache-Control", "max-age=100")).with("Cache-Control", `max-age="5"`),
			}},
	})
}

func TestConformanceAge(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §4.2.3: Age from upstream is added to the time resident here, and counts against the lifetime",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "30")),
				hitAt(10*sec, "a", "40"),
				hitAt(59*sec, "a", "99"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")),
			}},
		{name: "RFC 9111 §4.2.3: a response whose Age exceeds max-age is stale on arrival",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "200")),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")),
			}},
		{name: "RFC 9111 §5.1: an Age that is not a non-negative integer is ignored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "abc")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.1: a negative Age is invalid and ignored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "-50")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.1: a list-valued Age: the first member is used",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "30, 60")),
				hitAt(10*sec, "a", "40"),
			}},
		{name: "RFC 9111 §5.1: a fractional Age is not a non-negative integer: ignored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "7200.0")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.1: a list-valued Age whose first member is 0: 0 is used",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "0,7200")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.1: several Age lines: the first is used",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "30", "Age", "90")),
				hitAt(10*sec, "a", "40"),
			}},
		{name: "RFC 9111 §1.2.2, §5.1: a huge Age makes the response stale, not fresh by overflow",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Age", "99999999999999999999")),
				missAt(1*sec, ok("b")),
			}},
		{name: "RFC 9111 §4.2.3: a Date in the past may count as apparent age (corrected_age_value may be used alone)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Date", ago(50*sec))),
				ex{after: 10 * sec, status: 200, body: str("a")}.then(func(t *testing.T, r *result) {
					if a := r.header.Get("Age"); a != "10" && a != "60" {
						t.Errorf("Age %q, want 10 (age value) or 60 (apparent age)", a)
					}
				}),
			}},
		{name: "RFC 9111 §4.2.3: a Date in the future gives no negative age",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Date", httpDate(t0.Add(time.Hour)))),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §5.1: Age is an integer count of seconds, rounded down while resident",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				hitAt(1500*time.Millisecond, "a", "1"),
			}},
	})
}

func TestConformanceRequestDirectives(t *testing.T) {
	t.Parallel()
	stored := miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`))
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §5.2.1.1: request max-age=0 makes the cache validate a fresh stored response",
			ex: []ex{
				stored,
				ex{after: sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					with("Cache-Control", "max-age=0").sending("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9111 §5.2.1.1: request max-age below the stored age: not reused",
			ex: []ex{
				stored,
				missAt(10*sec, ok("b", "Cache-Control", "max-age=100")).with("Cache-Control", "max-age=5"),
			}},
		{name: "RFC 9111 §5.2.1.1: request max-age above the stored age: reused",
			ex: []ex{
				stored,
				hitAt(10*sec, "a", "10").with("Cache-Control", "max-age=20"),
			}},
		{name: "RFC 9111 §5.2.1.2: max-stale with a value accepts a response stale by less than it",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				hitAt(10*sec, "a", "10").with("Cache-Control", "max-stale=100"),
			}},
		{name: "RFC 9111 §5.2.1.2: max-stale without a value accepts a stale response of any staleness",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				hitAt(1000*sec, "a", "1000").with("Cache-Control", "max-stale"),
			}},
		{name: "RFC 9111 §5.2.1.2: max-stale does not accept a response stale by more than it",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				missAt(10*sec, ok("b")).with("Cache-Control", "max-stale=5"),
			}},
		{name: "RFC 9111 §5.2.1.3: min-fresh: not reused when less fresh than asked",
			ex: []ex{
				stored,
				missAt(60*sec, ok("b", "Cache-Control", "max-age=100")).with("Cache-Control", "min-fresh=50"),
			}},
		{name: "RFC 9111 §5.2.1.3: min-fresh: reused when fresh for longer than asked",
			ex: []ex{
				stored,
				hitAt(10*sec, "a", "10").with("Cache-Control", "min-fresh=50"),
			}},
		{name: "RFC 9111 §5.2.1.4: request no-cache: the stored response is validated first",
			ex: []ex{
				stored,
				ex{after: sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					with("Cache-Control", "no-cache").sending("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9111 §5.2.1.5: request no-store: neither the response nor the request is stored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).with("Cache-Control", "no-store"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=100")),
			}},
		{name: "RFC 9111 §5.2.1.7: only-if-cached with nothing stored: 504 without asking the origin",
			ex: []ex{
				ex{status: http.StatusGatewayTimeout}.with("Cache-Control", "only-if-cached"),
			}},
		{name: "RFC 9111 §5.2.1.7: only-if-cached with a fresh stored response: the stored response",
			ex: []ex{
				stored,
				hitAt(10*sec, "a", "10").with("Cache-Control", "only-if-cached"),
			}},
		{name: "RFC 9111 §5.2.1.7: only-if-cached with only a stale stored response: 504",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				ex{after: 10 * sec, status: http.StatusGatewayTimeout}.with("Cache-Control", "only-if-cached"),
			}},
		{name: "RFC 9111 §5.2.1.7, §5.2.1.2: only-if-cached with max-stale: a stale stored response is served",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				hitAt(10*sec, "a", "10").with("Cache-Control", "only-if-cached, max-stale"),
			}},
		{name: "RFC 9111 §5.4 (as the issue asks): Pragma: no-cache without Cache-Control is request no-cache",
			ex: []ex{
				stored,
				ex{after: sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					with("Pragma", "no-cache"),
			}},
		{name: "RFC 9111 §5.4: Pragma is ignored when the request has Cache-Control",
			ex: []ex{
				stored,
				hitAt(1*sec, "a", "1").with("Pragma", "no-cache", "Cache-Control", "max-stale=10"),
			}},
	})
}

// TestConformanceUnknownRequestDirectives covers requests that carry
// directives and Pragma values the cache does not know.
func TestConformanceUnknownRequestDirectives(t *testing.T) {
	t.Parallel()
	// Test clients that defeat a cache of their own send an unknown
	// Cache-Control directive and an unknown Pragma on every request.
	unknown := func(e ex) ex { return e.with("Cache-Control", "nothing-to-see-here", "Pragma", "foo") }
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §5.2.3, §5.4: an unknown request directive and Pragma: foo change nothing: the fresh stored response is reused",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100"))),
				unknown(hitAt(10*sec, "a", "10")),
			}},
		{name: "RFC 9111 §5.4: Pragma: no-cache is ignored when the request has Cache-Control, even an unknown directive",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100"))),
				unknown(hitAt(10*sec, "a", "10")).with("Pragma", "no-cache"),
			}},
		{name: "RFC 9111 §5.2.1.4: request no-cache on a second Cache-Control line counts",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100"))),
				unknown(missAt(10*sec, ok("b", "Cache-Control", "max-age=100"))).with("Cache-Control", "no-cache"),
			}},
		{name: "RFC 9111 §5.2.1.1: request max-age=0 beside an unknown directive validates a fresh stored response",
			ex: []ex{
				unknown(miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"1"`))),
				unknown(ex{after: 10 * sec, origin: notModified("ETag", `"1"`), status: 200, body: str("a")}).with("Cache-Control", "max-age=0").sending("If-None-Match", `"1"`),
			}},
	})
}

func TestConformanceVary(t *testing.T) {
	t.Parallel()
	v := func(body string, kv ...string) *resp {
		return ok(body, append([]string{"Cache-Control", "max-age=100", "Vary", "Accept-Language"}, kv...)...)
	}
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §4.1: a request whose Vary-named field matches reuses the stored response; one that differs does not, and both variants are then kept",
			ex: []ex{
				miss(v("en")).with("Accept-Language", "en").fwdIs("uri-miss"),
				hitAt(sec, "en", "1").with("Accept-Language", "en").expect("Vary", "Accept-Language"),
				miss(v("fr")).with("Accept-Language", "fr").fwdIs("vary-miss"),
				hitAt(sec, "en", "2").with("Accept-Language", "en"),
				hitAt(sec, "fr", "2").with("Accept-Language", "fr"),
			}},
		{name: "RFC 9111 §4.1: several variants: three values of one field coexist",
			ex: []ex{
				miss(v("en")).with("Accept-Language", "en"),
				miss(v("fr")).with("Accept-Language", "fr"),
				miss(v("de")).with("Accept-Language", "de"),
				hitAt(sec, "fr", "1").with("Accept-Language", "fr"),
				hitAt(sec, "de", "2").with("Accept-Language", "de"),
				hitAt(sec, "en", "3").with("Accept-Language", "en"),
			}},
		{name: "RFC 9111 §4.1: Vary: * never matches",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "*")),
				missAt(sec, ok("b", "Cache-Control", "max-age=100", "Vary", "*")),
			}},
		{name: "RFC 9111 §4.1: a field absent from both requests matches",
			ex: []ex{
				miss(v("none")),
				hitAt(sec, "none", "1"),
			}},
		{name: "RFC 9111 §4.1: a field absent from one request and present in the other does not match",
			ex: []ex{
				miss(v("none")),
				miss(v("en")).with("Accept-Language", "en"),
			}},
		{name: "RFC 9111 §4.1: whitespace where the syntax allows it is normalised",
			ex: []ex{
				miss(v("a")).with("Accept-Language", "en,fr"),
				hitAt(sec, "a", "1").with("Accept-Language", "en , fr"),
			}},
		{name: "RFC 9111 §4.1: several field lines are combined before comparing",
			ex: []ex{
				miss(v("a")).with("Accept-Language", "en, fr"),
				hitAt(sec, "a", "1").with("Accept-Language", "en", "Accept-Language", "fr"),
			}},
		{name: "RFC 9111 §4.1, RFC 9110 §8.4.1: content-coding names in Accept-Encoding are case-insensitive",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "Accept-Encoding")).with("Accept-Encoding", "gzip"),
				hitAt(sec, "a", "1").with("Accept-Encoding", "GZIP"),
			}},
		{name: "RFC 9111 §4.1, RFC 9110 §12.5.3: the order of Accept-Encoding members carries no meaning",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "Accept-Encoding")).with("Accept-Encoding", "gzip, br"),
				hitAt(sec, "a", "1").with("Accept-Encoding", "br,gzip"),
			}},
		{name: "RFC 9111 §4.1: Vary field names are case-insensitive and a list over several lines; all named fields must match",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "accept-language", "Vary", " X-Foo ")).with("Accept-Language", "en", "X-Foo", "1"),
				hitAt(sec, "a", "1").with("Accept-Language", "en", "X-Foo", "1"),
				miss(ok("b", "Cache-Control", "max-age=100", "Vary", "accept-language, X-Foo")).with("Accept-Language", "en", "X-Foo", "2"),
			}},
		{name: "RFC 9111 §4.1: a Vary list containing * never matches",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "Accept-Language, *")).with("Accept-Language", "en"),
				missAt(sec, ok("b", "Cache-Control", "max-age=100")).with("Accept-Language", "en"),
			}},
		{name: "RFC 9111 §4.1: leading and trailing whitespace of any selecting field is not part of its value (RFC 9110 §5.5)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "X-Foo")).with("X-Foo", "1"),
				hitAt(sec, "a", "1").with("X-Foo", "  1\t"),
			}},
		{name: "RFC 9111 §4.1: whitespace around commas in an unknown selecting field is normalised (1,2 matches \" 1, 2 \")",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "X-Foo")).with("X-Foo", "1,2"),
				hitAt(sec, "a", "1").with("X-Foo", " 1, 2 "),
			}},
		{name: "RFC 9111 §4.1: repeated lines of an unknown selecting field are combined (1 + 2 matches \"1, 2\")",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "X-Foo")).with("X-Foo", "1, 2"),
				hitAt(sec, "a", "1").with("X-Foo", "1", "X-Foo", "2"),
			}},
		{name: "RFC 9111 §4.1: a three-field Vary does not match when one value differs, whatever the order of the request's fields",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "Foo, Bar, Baz")).with("Foo", "1", "Bar", "abc4", "Baz", "789"),
				miss(ok("b", "Cache-Control", "max-age=100", "Vary", "Foo, Bar, Baz")).with("Baz", "789", "Foo", "1", "Bar", "abc"),
				hitAt(sec, "a", "1").with("Bar", "abc4", "Baz", "789", "Foo", "1"),
			}},
		{name: "RFC 9111 §4.1: a field named in Vary but present in neither request matches (three-way Vary)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Vary", "Foo, Bar, Baz")).with("Foo", "1", "Baz", "789"),
				hitAt(sec, "a", "1").with("Foo", "1", "Baz", "789"),
				miss(ok("b", "Cache-Control", "max-age=100", "Vary", "Foo, Bar, Baz")).with("Foo", "1", "Bar", "x", "Baz", "789"),
			}},
		{name: "RFC 9111 §4.1, RFC 9110 §12.5.4: Accept-Language members of equal weight in another order match",
			ex: []ex{
				miss(v("a")).with("Accept-Language", "en, de"),
				hitAt(sec, "a", "1").with("Accept-Language", "de, en"),
			}},
		{name: "RFC 9111 §4.1: a request field not named in Vary does not matter",
			ex: []ex{
				miss(v("a")).with("Accept-Language", "en", "X-Other", "1"),
				hitAt(sec, "a", "1").with("Accept-Language", "en", "X-Other", "2"),
			}},
		{name: "RFC 9111 §4.1, §4: a newer response with another Vary replaces the selection",
			ex: []ex{
				miss(v("en")).with("Accept-Language", "en"),
				missAt(200*sec, ok("any", "Cache-Control", "max-age=100")).with("Accept-Language", "en"),
				hitAt(sec, "any", "1").with("Accept-Language", "fr"),
			}},
	})
}

// TestConformanceVaryStar covers a * among the members of a Vary spread
// over several lines.
func TestConformanceVaryStar(t *testing.T) {
	t.Parallel()
	var cases []conformanceCase
	for _, lines := range [][]string{{"*, *"}, {"*", "*"}, {", *"}, {"", "*"}, {"*, Foo"}, {"Foo, *"}} {
		fields := []string{"Cache-Control", "max-age=5000"}
		for _, l := range lines {
			fields = append(fields, "Vary", l)
		}
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §4.1: a Vary of %q (list members over the lines) contains *, so it never matches", lines),
			ex: []ex{
				miss(ok("a", fields...)).with("Foo", "1", "Baz", "789"),
				missAt(1*sec, ok("b", "Cache-Control", "max-age=5000")).with("Foo", "1", "Baz", "789"),
			},
		})
	}
	runCases(t, cases)
}

func TestConformanceValidation(t *testing.T) {
	t.Parallel()
	lm := ago(time.Hour)
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §4.3.1, §4.3.3, §4.3.4: a stale response with an ETag is validated with If-None-Match; a 304 freshens it and its body is served",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					sending("If-None-Match", `"v1"`).fwdIs("stale").then(func(t *testing.T, r *result) {
					if r.member["fwd-status"] != "304" {
						t.Errorf("Cache-Status fwd-status=%q, want 304 (RFC 9211 §2.3)", r.member["fwd-status"])
					}
				}),
				hitAt(50*sec, "a", "50"),
			}},
		{name: "RFC 9111 §4.3.1: a stale response with only Last-Modified is validated with If-Modified-Since",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "Last-Modified", lm)),
				ex{after: 20 * sec, origin: notModified("Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					sending("If-Modified-Since", lm),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9111 §4.3.1: with both validators, both conditional fields are sent",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`, "Last-Modified", lm)),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`), status: 200, body: str("a")}.
					sending("If-None-Match", `"v1"`, "If-Modified-Since", lm),
			}},
		{name: "RFC 9111 §4.3.1: a stale response without validators is fetched unconditionally",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10")),
				ex{after: 20 * sec, origin: ok("b", "Cache-Control", "max-age=10"), status: 200, body: str("b")}.
					then(func(t *testing.T, r *result) {
						if r.originReq.Get("If-None-Match") != "" || r.originReq.Get("If-Modified-Since") != "" {
							t.Errorf("the origin was sent a conditional request: %v", r.originReq)
						}
					}),
			}},
		{name: "RFC 9111 §3.2, §4.3.4: a 304 updates the stored header fields, which later hits carry; fields it does not carry stay",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`, "X-Version", "1", "X-Keep", "k", "Content-Type", "text/plain")),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100", "X-Version", "2"), status: 200, body: str("a")}.
					expect("X-Version", "2", "X-Keep", "k", "Content-Type", "text/plain"),
				hitAt(sec, "a", "1").expect("X-Version", "2", "X-Keep", "k", "Cache-Control", "max-age=100"),
			}},
		{name: "RFC 9111 §3.2: a 304 updates Content-Type like any other field (the Content- prefix is no exception) and Date",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`, "Content-Type", "text/plain")),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100", "Content-Type", "text/html"), status: 200, body: str("a")}.
					expect("Content-Type", "text/html", "Date", httpDate(t0.Add(20*sec))),
				hitAt(sec, "a", "1").expect("Content-Type", "text/html"),
			}},
		{name: "RFC 9111 §4.3.4: a 304 to the cache's validation is not a 304 to the client's unconditional request",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a"), has: hdr("ETag", `"v1"`)},
			}},
		{name: "RFC 9111 §4.3.2: a client's own conditional on a stale response: the cache validates, and the client gets 304",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 304, body: str("")}.with("If-None-Match", `"v1"`),
				hitAt(sec, "a", "1"),
			}},
		{name: "RFC 9111 §3, §4.3.2: a 304 answering a client's conditional on a miss reaches the client and stores nothing",
			ex: []ex{
				ex{origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 304, body: str("")}.with("If-None-Match", `"v1"`),
				missAt(sec, ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
			}},
		{name: "RFC 9110 §13.1.3: an If-Modified-Since that is not a valid date is ignored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Last-Modified", lm)),
				hitAt(sec, "a", "1").with("If-Modified-Since", "yesterday"),
			}},
		{name: "RFC 9111 §4.2.3, §4.3.4: after a 304 the response's age starts again from the validation",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					then(func(t *testing.T, r *result) {
						if a := r.header.Get("Age"); a != "" && a != "0" {
							t.Errorf("Age %q right after validation, want 0 or none", a)
						}
					}),
				hitAt(5*sec, "a", "5"),
			}},
		{name: "RFC 9111 §4.3.1, §4.3.4: with Vary, the stored variant that matches is validated with its own ETag and freshened",
			ex: []ex{
				miss(ok("en", "Cache-Control", "max-age=10", "Vary", "Accept-Language", "ETag", `"en"`)).with("Accept-Language", "en"),
				miss(ok("fr", "Cache-Control", "max-age=10", "Vary", "Accept-Language", "ETag", `"fr"`)).with("Accept-Language", "fr"),
				ex{after: 20 * sec, origin: notModified("ETag", `"fr"`, "Cache-Control", "max-age=100", "Vary", "Accept-Language"), status: 200, body: str("fr")}.
					with("Accept-Language", "fr").then(func(t *testing.T, r *result) {
					if inm := r.originReq.Get("If-None-Match"); !strings.Contains(inm, `"fr"`) {
						t.Errorf("the origin was sent If-None-Match %q, want one with \"fr\"", inm)
					}
				}),
				hitAt(sec, "fr", "1").with("Accept-Language", "fr"),
			}},
		{name: "RFC 9111 §4, §5.1: a 304 generated from a stored response carries Age",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				ex{after: sec, status: 304, age: "1"}.with("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9111 §3.2: a 304 (validated by Last-Modified) updates every field it carries, Expires included, for the response served and for later hits",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "Last-Modified", lm, "Content-Location", "/foo",
					"Content-MD5", "rL0Y20zC+Fzt72VPzMSk2A==", "Content-Security-Policy", "default-src 'self'", "X-Frame-Options", "deny",
					"Clear-Site-Data", "cache", "Expires", httpDate(t0.Add(5*sec)))),
				ex{after: 20 * sec, origin: notModified("Cache-Control", "max-age=100", "Last-Modified", lm, "Content-Location", "/bar",
					"Content-MD5", "N7UdGUp1E+RbVvZSTy1R8g==", "Content-Security-Policy", "default-src 'self' cdn.example.com", "X-Frame-Options", "sameorigin",
					"Clear-Site-Data", "cookies", "Expires", httpDate(t0.Add(time.Hour))), status: 200, body: str("a")}.
					sending("If-Modified-Since", lm).
					expect("Content-Location", "/bar", "Content-MD5", "N7UdGUp1E+RbVvZSTy1R8g==",
						"Content-Security-Policy", "default-src 'self' cdn.example.com", "X-Frame-Options", "sameorigin",
						"Clear-Site-Data", "cookies", "Expires", httpDate(t0.Add(time.Hour))),
				hitAt(sec, "a", "1").expect("Content-Location", "/bar", "X-Frame-Options", "sameorigin", "Clear-Site-Data", "cookies"),
			}},
		{name: "RFC 9111 §4.3.4: a 304 whose strong ETag differs from the stored one updates nothing; the client still gets a full response",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`, "X-Version", "1")),
				ex{after: 20 * sec, origin: notModified("ETag", `"v2"`, "Cache-Control", "max-age=100", "X-Version", "2"),
					origin2: ok("b", "Cache-Control", "max-age=100", "ETag", `"v2"`), status: 200, body: str("b")}.
					then(func(t *testing.T, r *result) {
						if r.header.Get("X-Version") == "2" && r.body == "a" {
							t.Errorf("the stored response was served with the 304's fields though the ETags differ")
						}
					}),
				hitAt(sec, "b", "1").expect("ETag", `"v2"`).without("X-Version"),
			}},
		{name: "RFC 9111 §3.1, §3.2: hop-by-hop fields in a 304 are not stored by the update",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100", "Connection", "X-Hop", "X-Hop", "1",
					"Keep-Alive", "timeout=5", "Proxy-Authenticate", "Basic", "TE", "trailers", "Upgrade", "h2c"), status: 200, body: str("a")},
				hitAt(sec, "a", "1").without("Connection", "X-Hop", "Keep-Alive", "Proxy-Authenticate", "TE", "Upgrade"),
			}},
		{name: "RFC 9111 §3.2: a 304 does not update Content-Length",
			ex: []ex{
				miss(ok("hello", "Cache-Control", "max-age=10", "ETag", `"v1"`, "Content-Length", "5")),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100", "Content-Length", "99"), status: 200, body: str("hello")}.
					then(contentLength(5)),
				hitAt(sec, "hello", "1").then(contentLength(5)),
			}},
		{name: "RFC 9111 §4.3.3: a full response to a validation replaces the stored one",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				missAt(20*sec, ok("b", "Cache-Control", "max-age=100", "ETag", `"v2"`)).sending("If-None-Match", `"v1"`),
				hitAt(sec, "b", "1").expect("ETag", `"v2"`),
			}},
		{name: "RFC 9111 §4.3.3: a 5xx to a validation is passed on when stale responses may not be served",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`)),
				missAt(20*sec, status(503)),
			}},
		{name: "RFC 9111 §4.3.2, RFC 9110 §13.1.2: a client's If-None-Match that matches a fresh stored response gets 304 from the cache, with its ETag",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				ex{after: sec, status: 304, body: str(""), has: hdr("ETag", `"v1"`)}.with("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9110 §15.4.5: a 304 from the cache carries the fields a 200 would: Cache-Control, Date, ETag, Expires, Vary",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`, "Vary", "Accept-Language", "Expires", httpDate(t0.Add(time.Hour)))),
				ex{after: sec, status: 304, body: str(""), has: hdr("ETag", `"v1"`, "Cache-Control", "max-age=100", "Vary", "Accept-Language",
					"Expires", httpDate(t0.Add(time.Hour)), "Date", httpDate(t0))}.with("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9110 §13.1.2: If-None-Match uses the weak comparison (W/\"v1\" matches \"v1\")",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				ex{after: sec, status: 304, body: str("")}.with("If-None-Match", `W/"v1"`),
			}},
		{name: "RFC 9110 §13.1.2: If-None-Match with a list: any member may match",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `W/"v1"`)),
				ex{after: sec, status: 304, body: str("")}.with("If-None-Match", `"x", "v1"`),
			}},
		{name: "RFC 9110 §13.1.2: If-None-Match: * matches any stored response",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				ex{after: sec, status: 304, body: str("")}.with("If-None-Match", `*`),
			}},
		{name: "RFC 9110 §13.1.2: an If-None-Match that does not match gets the full stored response",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				hitAt(sec, "a", "1").with("If-None-Match", `"v0"`),
			}},
		{name: "RFC 9110 §13.1.3, RFC 9111 §4.3.2: If-Modified-Since not before Last-Modified gets 304 from the cache",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Last-Modified", lm)),
				ex{after: sec, status: 304, body: str("")}.with("If-Modified-Since", httpDate(t0)),
			}},
		{name: "RFC 9110 §13.1.3: If-Modified-Since before Last-Modified gets the full stored response",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Last-Modified", lm)),
				hitAt(sec, "a", "1").with("If-Modified-Since", ago(2*time.Hour)),
			}},
		{name: "RFC 9110 §13.2.2: If-None-Match takes precedence: a match gives 304 even with an If-Modified-Since before Last-Modified",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`, "Last-Modified", lm)),
				ex{after: sec, status: 304, body: str("")}.with("If-None-Match", `"v1"`, "If-Modified-Since", ago(2*time.Hour)),
			}},
		{name: "RFC 9111 §4.3.1: a stale response with a weak ETag is validated with If-None-Match carrying it",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `W/"v1"`)),
				ex{after: 20 * sec, origin: notModified("ETag", `W/"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("a")}.
					sending("If-None-Match", `W/"v1"`),
			}},
		{name: "RFC 9111 §4.3.1: the validation request carries the request's own selecting (Vary) fields",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10", "ETag", `"v1"`, "Vary", "Abc")).with("Abc", "123"),
				ex{after: 20 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100", "Vary", "Abc"), status: 200, body: str("a")}.
					with("Abc", "123").sending("Abc", "123", "If-None-Match", `"v1"`),
			}},
		{name: "RFC 9110 §13.1.1, §13.2.2: an If-Match that fails is never answered with the stored 200: 412 from the cache, or the origin decides",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				ex{after: sec, maybe: true, origin: status(412), status: 412}.with("If-Match", `"other"`),
			}},
		{name: "RFC 9110 §13.1.4, §13.2.2: an If-Unmodified-Since before Last-Modified is never answered with the stored 200",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Last-Modified", lm)),
				ex{after: sec, maybe: true, origin: status(412), status: 412}.with("If-Unmodified-Since", ago(2*time.Hour)),
			}},
		{name: "RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "ETag", `"v1"`, "Last-Modified", lm)),
				hitAt(sec, "a", "1").with("If-None-Match", `"v0"`, "If-Modified-Since", httpDate(t0)),
			}},
	})
}

// TestConformanceSetCookie covers a Set-Cookie in a 304 that answers a
// validation.
func TestConformanceSetCookie(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §3.2 with Options.StoreSetCookie: a 304 updates a stored Set-Cookie like any field",
			opts: httpcache.Options{StoreSetCookie: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "ETag", `"e"`, "Set-Cookie", "a=b")),
				{after: 5 * sec, origin: notModified("Cache-Control", "max-age=3600", "ETag", `"e"`, "Set-Cookie", "a=c"), status: 200, body: str("a")},
				hitAt(10*sec, "a", "10").expect("Set-Cookie", "a=c"),
			}},
		{name: "hitbox Options.StoreSetCookie off: a Set-Cookie in a 304 reaches the client it answers, and is never stored for the next one",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "ETag", `"e"`)),
				ex{after: 5 * sec, origin: notModified("Cache-Control", "max-age=3600", "ETag", `"e"`, "Set-Cookie", "user=1"), status: 200, body: str("a")}.expect("Set-Cookie", "user=1"),
				// Safe either way: not stored (the origin is asked again,
				// unconditionally, as on a miss) or stored without it.
				ex{after: 10 * sec, origin: ok("a", "Cache-Control", "max-age=3600", "ETag", `"e"`), maybe: true, status: 200, body: str("a")}.without("Set-Cookie"),
			}},
		{name: "RFC 9111 §3.2, §4.3.4: a 304 with Set-Cookie (Options.StoreSetCookie off) still freshens the stored response, without the cookie",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1", "ETag", `"e"`)),
				ex{after: 5 * sec, origin: notModified("Cache-Control", "max-age=3600", "ETag", `"e"`, "Set-Cookie", "user=1"), status: 200, body: str("a")}.expect("Set-Cookie", "user=1"),
				hitAt(10*sec, "a", "10").without("Set-Cookie"),
			}},
	})
}

func contentLength(n int) func(t *testing.T, r *result) {
	return func(t *testing.T, r *result) {
		t.Helper()
		if v := r.header.Get("Content-Length"); v != "" && v != strconv.Itoa(n) {
			t.Errorf("Content-Length %q, want %d or none", v, n)
		}
	}
}

func TestConformanceInvalidation(t *testing.T) {
	t.Parallel()
	stored := miss(ok("a", "Cache-Control", "max-age=100"))
	again := missAt(sec, ok("b", "Cache-Control", "max-age=100"))
	var cases []conformanceCase
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "M-SEARCH", "FROB"} {
		cases = append(cases, conformanceCase{
			name: fmt.Sprintf("RFC 9111 §4.4: a non-error response to %s invalidates the target URI", m),
			ex:   []ex{stored, miss(ok("done")).to(m, "/r"), again},
		})
	}
	cases = append(cases, []conformanceCase{
		{name: "RFC 9111 §4.4: a 3xx to an unsafe method is a non-error response and invalidates",
			ex: []ex{stored, miss(status(303, "Location", "/elsewhere")).to("POST", "/r"), again}},
		{name: "RFC 9111 §4.4: an error response (500) to an unsafe method does not invalidate",
			ex: []ex{stored, miss(status(500)).to("POST", "/r"), hitAt(sec, "a", "1")}},
		{name: "RFC 9111 §4.4: an error response (404) to DELETE does not invalidate",
			ex: []ex{stored, miss(status(404)).to("DELETE", "/r"), hitAt(sec, "a", "1")}},
		{name: "RFC 9111 §4.4: a same-origin Location in the response to an unsafe method is invalidated",
			ex: []ex{stored, miss(status(201, "Location", "/r")).to("POST", "/new"), again}},
		{name: "RFC 9111 §4.4: an absolute same-origin Location is invalidated",
			ex: []ex{stored, miss(status(201, "Location", host+"/r")).to("POST", "/new"), again}},
		{name: "RFC 9111 §4.4: a same-origin Content-Location in the response to an unsafe method is invalidated",
			ex: []ex{stored, miss(ok("x", "Content-Location", "/r")).to("PUT", "/other"), again}},
		{name: "RFC 9111 §4.4: a Location of another origin is not invalidated",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).to("GET", "http://other.test/r"),
				miss(status(201, "Location", "http://other.test/r")).to("POST", "/new"),
				hitAt(sec, "a", "1").to("GET", "http://other.test/r"),
			}},
		{name: "RFC 9111 §4.4: an unsafe request to another URI leaves this one stored",
			ex: []ex{stored, miss(ok("done")).to("POST", "/other"), hitAt(sec, "a", "1")}},
		{name: "RFC 9111 §4.4: invalidation removes every Vary variant of the URI",
			ex: []ex{
				miss(ok("en", "Cache-Control", "max-age=100", "Vary", "Accept-Language")).with("Accept-Language", "en"),
				miss(ok("fr", "Cache-Control", "max-age=100", "Vary", "Accept-Language")).with("Accept-Language", "fr"),
				miss(ok("done")).to("PUT", "/r"),
				missAt(sec, ok("en2", "Cache-Control", "max-age=100", "Vary", "Accept-Language")).with("Accept-Language", "en"),
				missAt(sec, ok("fr2", "Cache-Control", "max-age=100", "Vary", "Accept-Language")).with("Accept-Language", "fr"),
			}},
		{name: "RFC 9111 §4.4: the query is part of the URI: an unsafe request to /r?x=1 invalidates that, not /r",
			ex: []ex{
				stored,
				miss(ok("q", "Cache-Control", "max-age=100")).to("GET", "/r?x=1"),
				miss(ok("done")).to("POST", "/r?x=1"),
				hitAt(sec, "a", "1"),
				missAt(sec, ok("q2")).to("GET", "/r?x=1"),
			}},
		{name: "RFC 9111 §4.4, RFC 9110 §9.2.1: GET and HEAD are safe and invalidate nothing",
			ex: []ex{stored, hitAt(sec, "", "1").to("HEAD", "/r"), hitAt(sec, "a", "2")}},
	}...)
	runCases(t, cases)
}

func TestConformanceHEAD(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9110 §9.3.2, RFC 9111 §4: a HEAD is answered from a stored GET response, with its header fields and no body",
			ex: []ex{
				miss(ok("abc", "Cache-Control", "max-age=100", "Content-Type", "text/plain", "X-Meta", "m")),
				ex{method: "HEAD", after: sec, status: 200, body: str(""), age: "1", has: hdr("Content-Type", "text/plain", "X-Meta", "m")},
			}},
		{name: "RFC 9111 §4.3.5: a HEAD response freshens the stored GET response it matches, and updates its fields",
			ex: []ex{
				miss(ok("abc", "Cache-Control", "max-age=1", "ETag", `"v1"`, "X-Version", "1")),
				ex{method: "HEAD", after: 10 * sec, origin: ok("abc", "Cache-Control", "max-age=100", "ETag", `"v1"`, "X-Version", "2"), status: 200, body: str("")},
				hitAt(sec, "abc", "1").expect("X-Version", "2"),
			}},
		{name: "RFC 9111 §4.3.5: a HEAD response with another ETag does not freshen the stored GET response",
			ex: []ex{
				miss(ok("abc", "Cache-Control", "max-age=1", "ETag", `"v1"`)),
				ex{method: "HEAD", after: 10 * sec, origin: ok("abcd", "Cache-Control", "max-age=100", "ETag", `"v2"`), status: 200, body: str("")},
				missAt(sec, ok("abcd", "Cache-Control", "max-age=100", "ETag", `"v2"`)),
			}},
		{name: "RFC 9110 §9.3.2, RFC 9111 §4: a GET after a HEAD miss gets the whole body, never an empty one stored from the HEAD",
			ex: []ex{
				{method: "HEAD", origin: ok("abc", "Cache-Control", "max-age=100"), status: 200, body: str("")},
				{after: sec, maybe: true, origin: ok("abc", "Cache-Control", "max-age=100"), status: 200, body: str("abc")},
			}},
		{name: "RFC 9111 §4.3: a HEAD on a stale stored response is validated; the 304 freshens the stored GET",
			ex: []ex{
				miss(ok("abc", "Cache-Control", "max-age=1", "ETag", `"v1"`)),
				ex{method: "HEAD", after: 10 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 200, body: str("")},
				hitAt(sec, "abc", "1"),
			}},
		{name: "RFC 9110 §9.3.2: the response to a HEAD miss has no body",
			ex: []ex{
				{method: "HEAD", origin: ok("abc", "Cache-Control", "max-age=100"), status: 200, body: str("")},
			}},
	})
}

// TestConformanceHEADWithoutValidators covers a HEAD response freshening a
// stored response without validators.
func TestConformanceHEADWithoutValidators(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §4.3.5: a 200 to a HEAD freshens a stored GET response without validators, whose Content-Length it matches, and updates its fields",
			ex: []ex{
				miss(ok("0123456789", "Cache-Control", "max-age=2", "Template-A", "1", "Content-Length", "10")),
				{after: 5 * sec, method: http.MethodHead, origin: ok("", "Cache-Control", "max-age=1000", "Template-A", "2", "Content-Length", "10"), status: 200},
				hitAt(10*sec, "0123456789", "10").expect("Template-A", "2"),
			}},
		{name: "RFC 9111 §4.3.5: a HEAD response whose Content-Length differs from the stored one does not freshen it",
			ex: []ex{
				miss(ok("0123456789", "Cache-Control", "max-age=2", "Content-Length", "10")),
				{after: 5 * sec, method: http.MethodHead, origin: ok("", "Cache-Control", "max-age=1000", "Content-Length", "11"), status: 200},
				missAt(1*sec, ok("new", "Cache-Control", "max-age=1000")),
			}},
	})
}

func TestConformanceRange(t *testing.T) {
	t.Parallel()
	const full = "0123456789"
	stored := miss(ok(full, "Cache-Control", "max-age=100", "ETag", `"v1"`, "Last-Modified", ago(time.Hour), "Content-Type", "text/plain"))
	part := func(rng, body, contentRange string) ex {
		return ex{after: sec, status: 206, body: str(body), has: hdr("Content-Range", contentRange)}.with("Range", rng)
	}
	runCases(t, []conformanceCase{
		{name: "RFC 9110 §14.2, RFC 9111 §3.4: a single range is served from a stored complete response as a 206",
			ex: []ex{stored, part("bytes=2-5", "2345", "bytes 2-5/10").expect("Content-Type", "text/plain", "ETag", `"v1"`)}},
		{name: "RFC 9110 §14.1.2: a suffix range (bytes=-3) is the last three bytes",
			ex: []ex{stored, part("bytes=-3", "789", "bytes 7-9/10")}},
		{name: "RFC 9110 §14.1.2: an open range (bytes=7-) runs to the end",
			ex: []ex{stored, part("bytes=7-", "789", "bytes 7-9/10")}},
		{name: "RFC 9110 §14.1.2: a last-pos beyond the end is cut to the end",
			ex: []ex{stored, part("bytes=5-100", "56789", "bytes 5-9/10")}},
		{name: "RFC 9110 §14.2, §14.6: several ranges: a multipart/byteranges 206 with each part, or the whole 200 (a server may ignore Range)",
			ex: []ex{stored, ex{after: sec}.with("Range", "bytes=0-1,5-6").then(func(t *testing.T, r *result) {
				switch r.status {
				case 200:
					if r.body != full {
						t.Errorf("200 body %q, want %q", r.body, full)
					}
				case 206:
					ct := r.header.Get("Content-Type")
					if !strings.HasPrefix(ct, "multipart/byteranges; boundary=") {
						if r.header.Get("Content-Range") == "" {
							t.Errorf("206 with Content-Type %q and no Content-Range", ct)
						}
						return
					}
					for _, want := range []string{"Content-Range: bytes 0-1/10\r\n\r\n01\r\n", "Content-Range: bytes 5-6/10\r\n\r\n56\r\n"} {
						if !strings.Contains(r.body, want) {
							t.Errorf("multipart body %q lacks %q", r.body, want)
						}
					}
				default:
					t.Errorf("status %d, want 206 or 200", r.status)
				}
			})}},
		{name: "RFC 9110 §15.5.17: an unsatisfiable range gets 416 with Content-Range bytes */size",
			ex: []ex{stored, ex{after: sec, status: 416, has: hdr("Content-Range", "bytes */10")}.with("Range", "bytes=20-30")}},
		{name: "RFC 9110 §14.2: a Range of an unknown unit is ignored: the full response",
			ex: []ex{stored, hitAt(sec, full, "1").with("Range", "items=1-2")}},
		{name: "RFC 9110 §14.2: a syntactically invalid Range is ignored: the full response",
			ex: []ex{stored, hitAt(sec, full, "1").with("Range", "bytes=5-2")}},
		{name: "RFC 9110 §13.1.5: If-Range with the stored strong ETag: the range",
			ex: []ex{stored, part("bytes=0-1", "01", "bytes 0-1/10").with("If-Range", `"v1"`)}},
		{name: "RFC 9110 §13.1.5: If-Range with another ETag: the full response",
			ex: []ex{stored, hitAt(sec, full, "1").with("Range", "bytes=0-1", "If-Range", `"v0"`)}},
		{name: "RFC 9110 §13.1.5: If-Range with a weak ETag never matches: the full response",
			ex: []ex{stored, hitAt(sec, full, "1").with("Range", "bytes=0-1", "If-Range", `W/"v1"`)}},
		{name: "RFC 9110 §13.1.5, §8.8.2.2: If-Range with the stored Last-Modified (strong: a second before Date) gets the range",
			ex: []ex{stored, part("bytes=0-1", "01", "bytes 0-1/10").with("If-Range", ago(time.Hour))}},
		{name: "RFC 9110 §13.1.5, §8.8.2.2: If-Range with a Last-Modified equal to Date is weak, so the full response",
			ex: []ex{
				miss(ok(full, "Cache-Control", "max-age=100", "Last-Modified", httpDate(t0))),
				hitAt(sec, full, "1").with("Range", "bytes=0-1", "If-Range", httpDate(t0)),
			}},
		{name: "RFC 9111 §4.3, RFC 9110 §14.2: a Range request on a stale stored response is validated first, then answered from it",
			ex: []ex{
				miss(ok(full, "Cache-Control", "max-age=1", "ETag", `"v1"`)),
				ex{after: 10 * sec, origin: notModified("ETag", `"v1"`, "Cache-Control", "max-age=100"), status: 206, body: str("2345"),
					has: hdr("Content-Range", "bytes 2-5/10")}.with("Range", "bytes=2-5"),
			}},
		{name: "RFC 9111 §3.3, §3.4: a 206 from the origin is passed through and not stored as a complete response",
			ex: []ex{
				ex{origin: &resp{status: 206, body: "01", header: hdr("Cache-Control", "max-age=100", "Content-Range", "bytes 0-1/10")}, status: 206, body: str("01")}.with("Range", "bytes=0-1"),
				missAt(sec, ok(full, "Cache-Control", "max-age=100")),
			}},
	})
}

func TestConformanceHeaderStorage(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §3.1, RFC 9110 §7.6.1: Connection, the fields it names and other hop-by-hop fields are not stored; the rest are",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Connection", "X-Hop", "X-Hop", "1", "Keep-Alive", "timeout=5",
					"Proxy-Connection", "keep-alive", "TE", "trailers", "Upgrade", "h2c", "X-Kept", "k")),
				hitAt(sec, "a", "1").without("Connection", "X-Hop", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade").expect("X-Kept", "k"),
			}},
		{name: "RFC 9111 §3.1: Proxy-Authenticate and Proxy-Authentication-Info are not stored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Proxy-Authenticate", "Basic realm=x", "Proxy-Authentication-Info", "nextnonce=1")),
				hitAt(sec, "a", "1").without("Proxy-Authenticate", "Proxy-Authentication-Info"),
			}},
		{name: "RFC 9111 §3.1: unrecognised fields are stored; repeated lines keep their order",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "X-Multi", "one", "X-Unknown-Thing", "u", "X-Multi", "two", "Link", "</a>; rel=preload", "Link", "</b>; rel=preload")),
				hitAt(sec, "a", "1").expect("X-Multi", "one, two", "X-Unknown-Thing", "u", "Link", "</a>; rel=preload, </b>; rel=preload"),
			}},
		{name: "RFC 9110 §7.6.1: a Connection-named field is removed from the response forwarded on a miss too",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Connection", "X-Hop", "X-Hop", "1")).without("X-Hop"),
			}},
	})
}

// TestConformanceStoredFields covers header fields served as received.
func TestConformanceStoredFields(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9111 §3.1: security and unknown fields are stored and served as received",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "X-Frame-Options", "deny", "X-XSS-Protection", "1", "Clear-Site-Data", "cookies",
					"Strict-Transport-Security", "max-age=1", "Strict-Transport-Security2", "x", "Public-Key-Pins", "p", "Set-Cookie2", "a=b", "WWW-Authenticate", "Basic")),
				hitAt(10*sec, "a", "10").expect("X-Frame-Options", "deny", "X-XSS-Protection", "1", "Clear-Site-Data", "cookies",
					"Strict-Transport-Security", "max-age=1", "Strict-Transport-Security2", "x", "Public-Key-Pins", "p", "Set-Cookie2", "a=b", "WWW-Authenticate", "Basic"),
			}},
	})
}

// TestConformanceNoContentType runs a real net/http server, which (unlike
// httptest.ResponseRecorder) adds a sniffed Content-Type to a response
// without one even after an explicit WriteHeader, unless told not to.
func TestConformanceNoContentType(t *testing.T) {
	store, err := memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cache := httpcache.New(store, httpcache.Options{})
	defer cache.Close()
	srv := httptest.NewServer(cache.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush() // the header goes out as it is: no Content-Type
		_, _ = io.WriteString(w, "<html><body>")
	})))
	defer srv.Close()
	for i, want := range []string{"a miss", "a hit"} {
		resp, err := srv.Client().Get(srv.URL + "/r")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if ct := resp.Header.Values("Content-Type"); len(ct) > 0 {
			t.Errorf("response %d (%s, Cache-Status %q): Content-Type %q, want none, as the handler sent", i+1, want, resp.Header.Get("Cache-Status"), ct)
		}
	}
}

func TestConformanceStale(t *testing.T) {
	t.Parallel()
	swr := "max-age=1, stale-while-revalidate=100"
	runCases(t, []conformanceCase{
		{name: "RFC 5861 §3: within stale-while-revalidate the stale response is served at once and refreshed in the background",
			ex: []ex{
				miss(ok("a", "Cache-Control", swr, "ETag", `"v1"`)),
				ex{after: 10 * sec, status: 200, body: str("a"), age: "10",
					background: ok("b", "Cache-Control", "max-age=100", "ETag", `"v2"`)}.then(func(t *testing.T, r *result) {
					if r.member["ttl"] != "-9" {
						t.Errorf("Cache-Status %q: ttl=%q, want -9 (RFC 9211 §2.6: negative when stale)", r.header.Values("Cache-Status"), r.member["ttl"])
					}
				}),
				hitAt(sec, "b", ""),
			}},
		{name: "RFC 5861 §3: past the stale-while-revalidate window the origin is asked before answering",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-while-revalidate=10")),
				missAt(20*sec, ok("b", "Cache-Control", "max-age=1")),
			}},
		{name: "RFC 9111 §4.2.4, §5.2.2.2: must-revalidate forbids stale-while-revalidate",
			ex: []ex{
				miss(ok("a", "Cache-Control", swr+", must-revalidate")),
				missAt(10*sec, ok("b", "Cache-Control", "max-age=1")),
			}},
		{name: "RFC 9111 §5.2.2.4: no-cache forbids serving stale while revalidating",
			ex: []ex{
				miss(ok("a", "Cache-Control", "no-cache, stale-while-revalidate=100")),
				missAt(10*sec, ok("b", "Cache-Control", "max-age=1")),
			}},
		{name: "RFC 5861 §4: within stale-if-error a 500 from the origin is replaced by the stale response",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=100")),
				ex{after: 10 * sec, origin: status(500), status: 200, body: str("a")},
			}},
		{name: "RFC 5861 §4: stale-if-error covers 502, 503 and 504 too",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=100")),
				ex{after: 10 * sec, origin: status(502), status: 200, body: str("a")},
				ex{after: sec, origin: status(503), status: 200, body: str("a")},
				ex{after: sec, origin: status(504), status: 200, body: str("a")},
			}},
		{name: "RFC 5861 §4: a handler panic counts as an error for stale-if-error",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=100")),
				ex{after: 10 * sec, origin: &resp{panic: true}, status: 200, body: str("a")},
			}},
		{name: "RFC 5861 §4: past the stale-if-error window the error is passed on",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=10")),
				missAt(20*sec, status(500)),
			}},
		{name: "RFC 5861 §4: a stale-if-error response is not served when the origin answers without error",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=100")),
				missAt(10*sec, ok("b", "Cache-Control", "max-age=1, stale-if-error=100")),
			}},
		{name: "RFC 9111 §4.2.4, §5.2.2.2: must-revalidate forbids stale-if-error",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=100, must-revalidate")),
				ex{after: 10 * sec, origin: status(500)}.then(func(t *testing.T, r *result) {
					if r.body == "a" {
						t.Errorf("the stale response was served despite must-revalidate")
					}
				}),
			}},
		{name: "hitbox Options.StaleIfError: a default stale-if-error window for origins that send none",
			opts: httpcache.Options{StaleIfError: time.Minute},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				ex{after: 10 * sec, origin: status(500), status: 200, body: str("a")},
			}},
		{name: "RFC 9111 §4.2.4: a default stale-if-error (Options.StaleIfError) never overrides must-revalidate, proxy-revalidate, no-cache or s-maxage",
			opts: httpcache.Options{StaleIfError: time.Hour},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, must-revalidate")).to("GET", "/mr"),
				ex{after: 10 * sec, origin: status(503), status: 503}.to("GET", "/mr"),
				miss(ok("a", "Cache-Control", "max-age=1, proxy-revalidate")).to("GET", "/pr"),
				ex{after: 10 * sec, origin: status(503), status: 503}.to("GET", "/pr"),
				miss(ok("a", "Cache-Control", "max-age=1, no-cache")).to("GET", "/nc"),
				ex{after: 10 * sec, origin: status(503), status: 503}.to("GET", "/nc"),
				miss(ok("a", "Cache-Control", "s-maxage=1")).to("GET", "/sm"),
				ex{after: 10 * sec, origin: status(503), status: 503}.to("GET", "/sm"),
			}},
		{name: "hitbox Options.StaleWhileRevalidate: a default window for origins that send none",
			opts: httpcache.Options{StaleWhileRevalidate: time.Minute},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1")),
				ex{after: 10 * sec, status: 200, body: str("a"), background: ok("b", "Cache-Control", "max-age=100")},
				hitAt(sec, "b", ""),
			}},
	})
}

func TestConformanceTargeted(t *testing.T) {
	t.Parallel()
	runCases(t, []conformanceCase{
		{name: "RFC 9213 §2.2: CDN-Cache-Control takes precedence over Cache-Control (max-age there, no-store in Cache-Control); it is not forwarded, Cache-Control is",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=100", "Cache-Control", "no-store")).without("CDN-Cache-Control"),
				hitAt(10*sec, "a", "10").without("CDN-Cache-Control").expect("Cache-Control", "no-store"),
			}},
		{name: "RFC 9213 §2.2: no-store in CDN-Cache-Control beats max-age in Cache-Control",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "no-store", "Cache-Control", "max-age=100")),
				missAt(sec, ok("b", "CDN-Cache-Control", "no-store", "Cache-Control", "max-age=100")),
			}},
		{name: "RFC 9213 §2.2: a shorter max-age in CDN-Cache-Control wins over Cache-Control",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=5", "Cache-Control", "max-age=100")),
				missAt(10*sec, ok("b")),
			}},
		{name: "RFC 9213 §2.2: no-cache in CDN-Cache-Control makes this cache validate, whatever Cache-Control says",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "no-cache", "Cache-Control", "max-age=100", "ETag", `"v1"`)),
				ex{after: sec, origin: notModified("ETag", `"v1"`), status: 200, body: str("a")}.sending("If-None-Match", `"v1"`),
			}},
		{name: "RFC 9213 §2.2: s-maxage in Cache-Control does not apply when CDN-Cache-Control is valid",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=5", "Cache-Control", "s-maxage=100")),
				missAt(10*sec, ok("b")),
			}},
		{name: "RFC 9213 §2.2: with a valid CDN-Cache-Control, Expires is ignored",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=100", "Expires", ago(time.Hour))),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9213 §2.1: a targeted field that fails to parse as a Dictionary is ignored (Cache-Control applies)",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "no-store,", "Cache-Control", "max-age=100")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9213 §2.1: a targeted field with a member that is no Structured Field (&&&) is ignored as a whole: no-store in Cache-Control applies",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=100, &&&&&", "Cache-Control", "no-store")),
				missAt(sec, ok("b", "Cache-Control", "no-store")),
			}},
		{name: "RFC 9213 §2.1, RFC 8941: max-age as a String (\"100\") in a targeted field is not the Integer it must be: no freshness from it, and no-store in Cache-Control is not overridden by a valid policy",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", `max-age="100"`, "Cache-Control", "no-store")),
				missAt(sec, ok("b", "Cache-Control", "no-store")),
			}},
		{name: "RFC 9213 §2.2: CDN-Cache-Control: max-age=0 is stale at once, whatever Expires says",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=0", "Expires", httpDate(t0.Add(time.Hour)))),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9213 §2.2, RFC 9111 §4.2.3: Age counts against a CDN-Cache-Control max-age",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=100", "Age", "200")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9213 §2.2: a large CDN-Cache-Control max-age (beyond 2^31) is fresh",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=99999999999")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9213 §2.1: an empty targeted field is ignored",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "", "Cache-Control", "max-age=100")),
				hitAt(10*sec, "a", "10"),
			}},
		{name: "RFC 9213 §2.2: the targeted field's private binds this shared cache",
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "private", "Cache-Control", "max-age=100")),
				missAt(sec, ok("b")),
			}},
		{name: "RFC 9213 §2.1, hitbox Options.TargetField: another target field name; CDN-Cache-Control is then an ordinary field",
			opts: httpcache.Options{TargetField: "Edge-Cache-Control"},
			ex: []ex{
				miss(ok("a", "Edge-Cache-Control", "max-age=100", "CDN-Cache-Control", "no-store", "Cache-Control", "no-store")),
				hitAt(10*sec, "a", "10").without("Edge-Cache-Control").expect("CDN-Cache-Control", "no-store"),
			}},
		{name: "hitbox Options.ForwardTargetField: the targeted field is kept downstream",
			opts: httpcache.Options{ForwardTargetField: true},
			ex: []ex{
				miss(ok("a", "CDN-Cache-Control", "max-age=100")).expect("CDN-Cache-Control", "max-age=100"),
				hitAt(10*sec, "a", "10").expect("CDN-Cache-Control", "max-age=100"),
			}},
	})
}

func TestConformanceCacheStatus(t *testing.T) {
	t.Parallel()
	member := func(want map[string]string, absent ...string) func(t *testing.T, r *result) {
		return func(t *testing.T, r *result) {
			t.Helper()
			for k, v := range want {
				if got, ok := r.member[k]; !ok || got != v {
					t.Errorf("Cache-Status %q: %s=%q, want %q", r.header.Values("Cache-Status"), k, got, v)
				}
			}
			for _, k := range absent {
				if _, ok := r.member[k]; ok {
					t.Errorf("Cache-Status %q has %s", r.header.Values("Cache-Status"), k)
				}
			}
		}
	}
	runCases(t, []conformanceCase{
		{name: "RFC 9211 §2.2-2.4: a miss that is stored: fwd=uri-miss, fwd-status, stored",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).then(member(map[string]string{"fwd": "uri-miss", "fwd-status": "200", "stored": "?1"}, "hit")),
			}},
		{name: "RFC 9211 §2.1, §2.6: a hit: hit, and ttl the remaining freshness in seconds",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				hitAt(30*sec, "a", "30").then(member(map[string]string{"hit": "?1", "ttl": "70"}, "fwd", "stored")),
			}},
		{name: "RFC 9211 §2.6: a stale hit (max-stale) has a negative ttl",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=10")),
				hitAt(30*sec, "a", "30").with("Cache-Control", "max-stale").then(member(map[string]string{"hit": "?1", "ttl": "-20"})),
			}},
		{name: "RFC 9211 §2.2: a response that is not stored says so (no stored parameter)",
			ex: []ex{
				miss(ok("a", "Cache-Control", "no-store")).then(member(map[string]string{"fwd-status": "200"}, "stored")),
			}},
		{name: "RFC 9211 §2.2: a request whose directives forbid the stored response: fwd=request",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				missAt(sec, ok("b", "Cache-Control", "max-age=100")).with("Cache-Control", "no-cache").fwdIs("request"),
			}},
		{name: "RFC 9211 §2.2: an unsafe method: fwd=method",
			ex: []ex{miss(ok("a")).to("POST", "/r").fwdIs("method")},
		},
		{name: "RFC 9211 §2.3: fwd-status is the status the origin sent, not the one served",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=1, stale-if-error=100")),
				ex{after: 10 * sec, origin: status(503), status: 200, body: str("a")}.then(member(map[string]string{"fwd-status": "503"})),
			}},
		{name: "RFC 9211 §2: an upstream cache's member is kept and this cache's member follows it",
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100", "Cache-Status", `upstream; hit; ttl=5`)).then(func(t *testing.T, r *result) {
					ms, err := parseCacheStatus(strings.Join(r.header.Values("Cache-Status"), ", "))
					if err != nil || len(ms) != 2 || ms[0].name != "upstream" {
						t.Errorf("Cache-Status %q, want upstream's member then this cache's", r.header.Values("Cache-Status"))
					}
				}),
				hitAt(sec, "a", "1").then(func(t *testing.T, r *result) {
					ms, err := parseCacheStatus(strings.Join(r.header.Values("Cache-Status"), ", "))
					if err != nil || len(ms) != 2 || ms[0].name != "upstream" {
						t.Errorf("Cache-Status %q, want the stored upstream member then this cache's", r.header.Values("Cache-Status"))
					}
				}),
			}},
		{name: "RFC 9211 §2, hitbox Options.CacheName: the member is named as configured",
			opts: httpcache.Options{CacheName: "edge-1"},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")),
				hitAt(sec, "a", "1"),
			}},
		{name: "RFC 9211 §2.7, hitbox Options.ShowKey: key is an sf-string when asked, absent otherwise",
			opts: httpcache.Options{ShowKey: true},
			ex: []ex{
				miss(ok("a", "Cache-Control", "max-age=100")).then(func(t *testing.T, r *result) {
					if r.member["key"] == "" {
						t.Errorf("Cache-Status %q: no key with ShowKey", r.header.Values("Cache-Status"))
					}
				}),
			}},
	})
}

// TestCacheStatusParser checks the test's own sf-list parser, so a
// conformance failure is the middleware's, not the parser's.
func TestCacheStatusParser(t *testing.T) {
	t.Parallel()
	good := []string{
		`hitbox; hit`,
		`hitbox; fwd=uri-miss; fwd-status=200; stored`,
		`up; hit; ttl=-5, hitbox; fwd=stale; fwd-status=304; detail="tier.memory"`,
		`"quoted name"; hit; key="a \"b\" \\ c"`,
		``,
	}
	for _, s := range good {
		if _, err := parseCacheStatus(s); err != nil {
			t.Errorf("parseCacheStatus(%q): %v", s, err)
		}
	}
	bad := []string{`hitbox;`, `hitbox; Hit`, `hitbox,`, `hitbox; ttl=1.x`, `"open`, `hitbox hit`, `1abc`}
	for _, s := range bad {
		if _, err := parseCacheStatus(s); err == nil {
			t.Errorf("parseCacheStatus(%q) accepted", s)
		}
	}
}

// FuzzConformanceInvariants drives the middleware with random sequences of
// requests, origin answers and clock moves, and checks what must hold
// whatever the sequence:
//
//   - it never panics, and every response has a well-formed Cache-Status
//     whose last member is this cache's (RFC 9211 §2);
//   - Age, when sent, is a non-negative integer (RFC 9111 §5.1);
//   - a HEAD response has no body (RFC 9110 §9.3.2);
//   - a body the origin sent in an earlier step is only served again if
//     that response could be stored: not no-store or private (RFC 9111
//     §3, §5.2.2.5, §5.2.2.7), not a 206 (§3.3), not a 5xx or 302 without
//     explicit freshness, not the answer to a POST (§3, §4.4), and not
//     older than a successful unsafe request to its URI (§4.4), and only
//     to a request whose Vary-named field matches (§4.1).
//
// Each step ends with the cache closed and reopened over the same store,
// so background refreshes finish within their step.
func FuzzConformanceInvariants(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 10, 0, 1, 0, 0, 10})
	f.Add([]byte{0, 2, 3, 1, 50, 0, 2, 3, 1, 50, 3, 2, 0, 0, 0, 0, 2, 0, 0, 5})
	f.Add([]byte{0, 0, 7, 2, 200, 1, 0, 7, 2, 3, 0, 0, 9, 4, 100, 0, 0, 9, 4, 100})
	f.Add([]byte{2, 1, 1, 5, 1, 0, 1, 6, 5, 1, 0, 1, 8, 6, 250, 0, 1, 8, 6, 250})
	f.Fuzz(checkInvariants)
}

// checkInvariants runs one program for FuzzConformanceInvariants.
func checkInvariants(t *testing.T, program []byte) {
	{
		if len(program) > 200 {
			program = program[:200]
		}
		clock := hitboxtest.NewClock(t0)
		store, err := memstore.New(memstore.Options{MaxBytes: 1 << 20, Shards: 1, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		opts := httpcache.Options{Now: clock.Now}

		type origin struct {
			status int
			header [][2]string
		}
		// Pools the program picks from.
		methods := []string{"GET", "GET", "HEAD", "POST", "PUT"}
		paths := []string{"/a", "/b", "/c"}
		reqCC := []string{"", "", "no-cache", "max-age=0", "max-stale", "min-fresh=30", "only-if-cached", "max-age=60"}
		statuses := []int{200, 200, 200, 203, 204, 206, 301, 302, 404, 500, 503}
		respCC := []string{"", "max-age=100", "max-age=100", "no-store", "private, max-age=100", "no-cache", "s-maxage=20",
			"max-age=5, must-revalidate", "max-age=1, stale-while-revalidate=50", "max-age=1, stale-if-error=50", "public, max-age=30", "max-age=abc"}
		extras := [][][2]string{
			nil,
			hdr("ETag", `"e"`),
			hdr("Last-Modified", ago(time.Hour)),
			hdr("Vary", "X-V"),
			hdr("Age", "40"),
			hdr("ETag", `"e"`, "Last-Modified", ago(100000*sec)),
			hdr("Expires", httpDate(t0.Add(time.Hour))),
		}

		type sent struct {
			path     string
			step     int
			storable bool
			what     string
			varies   bool   // the response had Vary: X-V
			xv       string // the X-V of the request it answered
		}
		bodies := map[string]sent{}     // body -> where and when the origin sent it
		invalidated := map[string]int{} // path -> step of the last successful unsafe request
		var mu sync.Mutex
		var script origin
		var step int

		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sc, n := script, step
			mu.Unlock()
			body := fmt.Sprintf("b%d-%s", n, r.Method)
			for _, h := range sc.header {
				w.Header().Add(h[0], h[1])
			}
			w.Header().Set("Date", httpDate(clock.Now()))
			cc := strings.ToLower(w.Header().Get("Cache-Control"))
			storable := r.Method == "GET" && !strings.Contains(cc, "no-store") && !strings.Contains(cc, "private") && sc.status != 206
			if sc.status >= 500 || sc.status == 302 {
				// §3: explicit freshness lets any final status be stored; an
				// invalid max-age still is a max-age directive (the response
				// is stored stale, usable with max-stale).
				storable = storable && (strings.Contains(cc, "max-age") || strings.Contains(cc, "s-maxage") ||
					w.Header().Get("Expires") != "")
			}
			if sc.status == 206 {
				w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/100", len(body)-1))
			}
			mu.Lock()
			bodies[body] = sent{path: r.URL.Path, step: n, storable: storable, what: fmt.Sprintf("%s %d %v", r.Method, sc.status, sc.header),
				varies: w.Header().Get("Vary") != "", xv: r.Header.Get("X-V")}
			mu.Unlock()
			w.WriteHeader(sc.status)
			if r.Method != "HEAD" && sc.status != 204 {
				_, _ = io.WriteString(w, body)
			}
		})

		cache := httpcache.New(store, opts)
		defer func() { _ = cache.Close() }()
		for i := 0; i+4 < len(program); i += 5 {
			p := program[i : i+5]
			method := methods[int(p[0])%len(methods)]
			path := paths[int(p[1])%len(paths)]
			cc := respCC[int(p[2])%len(respCC)]
			extra := extras[int(p[3]>>4)%len(extras)]
			rcc := reqCC[int(p[3]&0xf)%len(reqCC)]
			advance := time.Duration(p[4]) * sec

			clock.Advance(advance)
			sc := origin{status: statuses[int(p[2]>>4)%len(statuses)]}
			if cc != "" {
				sc.header = append(sc.header, [2]string{"Cache-Control", cc})
			}
			sc.header = append(sc.header, extra...)
			mu.Lock()
			script, step = sc, i
			mu.Unlock()

			req := httptest.NewRequest(method, host+path, nil)
			if rcc != "" {
				req.Header.Set("Cache-Control", rcc)
			}
			if p[4]%3 == 0 {
				req.Header.Set("X-V", "1")
			}
			rec := httptest.NewRecorder()
			cache.Middleware(handler).ServeHTTP(rec, req)
			res := rec.Result()
			body := rec.Body.String()
			label := fmt.Sprintf("step %d: %s %s (Cache-Control %q; origin %d %v)", i/5+1, method, path, rcc, sc.status, sc.header)

			ms, err := parseCacheStatus(strings.Join(res.Header.Values("Cache-Status"), ", "))
			switch {
			case err != nil:
				t.Errorf("%s: Cache-Status %q: %v", label, res.Header.Values("Cache-Status"), err)
			case len(ms) == 0 && res.StatusCode != http.StatusGatewayTimeout:
				t.Errorf("%s: no Cache-Status", label)
			case len(ms) > 0 && ms[len(ms)-1].name != "hitbox":
				t.Errorf("%s: Cache-Status %q: last member is not this cache's", label, res.Header.Values("Cache-Status"))
			}
			if a := res.Header.Values("Age"); len(a) > 0 {
				if n, err := strconv.ParseInt(a[0], 10, 64); len(a) != 1 || err != nil || n < 0 {
					t.Errorf("%s: Age %q", label, a)
				}
			}
			if method == "HEAD" && body != "" {
				t.Errorf("%s: HEAD response with body %q", label, body)
			}
			mu.Lock()
			src, known := bodies[body]
			mu.Unlock()
			if known && src.step != i {
				switch {
				case src.path != path:
					t.Errorf("%s: served %q, which the origin sent for %s", label, body, src.path)
				case !src.storable:
					t.Errorf("%s: served %q from the cache, but that response (%s) could not be stored", label, body, src.what)
				case src.varies && src.xv != req.Header.Get("X-V"):
					t.Errorf("%s: served %q, stored for X-V %q, to a request with X-V %q (RFC 9111 §4.1)", label, body, src.xv, req.Header.Get("X-V"))
				case invalidated[path] > src.step:
					t.Errorf("%s: served %q (step %d) after an unsafe request invalidated %s (step %d)", label, body, src.step/5+1, path, invalidated[path]/5+1)
				}
			}
			if (method == "POST" || method == "PUT") && res.StatusCode < 400 {
				invalidated[path] = i
			}
			// Background work finishes inside its step.
			_ = cache.Close()
			cache = httpcache.New(store, opts)
		}
	}
}

// TestConformanceBackendFaults: when the store fails, requests are served
// as misses, never as errors, with the failure in Cache-Status's detail
// (RFC 9211 §2.8); when it heals, what it held is used again.
func TestConformanceBackendFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, httpcache.Options{})
	f := faulty.Wrap(h.store)
	_ = h.cache.Close()
	h.backend = f
	h.open()
	errDown := errors.New("store down")
	detail := func(t *testing.T, r *result) {
		t.Helper()
		if r.member["detail"] == "" {
			t.Errorf("Cache-Status %q: no detail naming the failure (RFC 9211 §2.8)", r.header.Values("Cache-Status"))
		}
	}
	steps := []ex{
		miss(ok("a", "Cache-Control", "max-age=100")),
		ex{after: sec, setup: func() { f.FailGet(errDown) }, origin: ok("b", "Cache-Control", "max-age=100"), status: 200, body: str("b")}.then(detail),
		ex{after: sec, setup: func() { f.Heal() }, status: 200}.then(func(t *testing.T, r *result) {
			// The stored response, or the newer one if the cache stored it
			// while the store could not be read.
			if got := r.body + " " + r.header.Get("Age"); got != "a 2" && got != "b 1" {
				t.Errorf("body and Age %q, want \"a 2\" or \"b 1\"", got)
			}
		}),
		ex{after: sec, setup: func() { f.FailSet(errDown) }, origin: ok("c", "Cache-Control", "max-age=100"), status: 200, body: str("c")}.to("GET", "/other"),
		ex{after: sec, setup: func() { f.Heal() }, origin: ok("c2", "Cache-Control", "max-age=100"), status: 200, body: str("c2")}.to("GET", "/other"),
		ex{after: sec, setup: func() { f.FailDelete(errDown) }, origin: ok("done"), status: 200, body: str("done")}.to("PUT", "/r"),
	}
	for i, e := range steps {
		h.do(i, e)
	}
	f.Heal()
}
