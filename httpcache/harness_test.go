package httpcache

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// t0 is where every fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// origin is a scripted handler: each call answers with the status, fields
// and body of the current script, and counts calls.
type origin struct {
	mu     sync.Mutex
	clock  *hitboxtest.Clock
	calls  int
	last   *http.Request
	status int
	fields []string // "Name: value"
	body   string   // "" gives "body N" for call N
	noDate bool
	fn     func(w http.ResponseWriter, r *http.Request) // replaces the script when set
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.calls++
	n := o.calls
	o.last = r
	fn, status, fields, body, noDate := o.fn, o.status, o.fields, o.body, o.noDate
	o.mu.Unlock()
	if fn != nil {
		fn(w, r)
		return
	}
	h := w.Header()
	if !noDate {
		h.Set("Date", o.clock.Now().Format(http.TimeFormat))
	}
	for _, f := range fields {
		name, value, _ := strings.Cut(f, ":")
		h.Add(name, strings.TrimSpace(value))
	}
	if status == 0 {
		status = http.StatusOK
	}
	if body == "" {
		body = fmt.Sprintf("body %d", n)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead && status != http.StatusNotModified && status != http.StatusNoContent {
		_, _ = io.WriteString(w, body)
	}
}

func (o *origin) set(status int, fields ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status, o.fields, o.fn = status, fields, nil
}

func (o *origin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}

func (o *origin) lastRequest() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// harness is a cache over a map store, a fake clock and a scripted origin.
type harness struct {
	t      *testing.T
	clock  *hitboxtest.Clock
	store  *mapstore.Store
	cache  *Cache
	origin *origin
	h      http.Handler
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clock := hitboxtest.NewClock(t0)
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	return newHarnessOver(t, opts, clock, store)
}

func newHarnessOver(t *testing.T, opts Options, clock *hitboxtest.Clock, b hitbox.Backend) *harness {
	t.Helper()
	opts.Now = clock.Now
	c := New(b, opts)
	t.Cleanup(func() { _ = c.Close() })
	o := &origin{clock: clock}
	st, _ := b.(*mapstore.Store)
	return &harness{t: t, clock: clock, store: st, cache: c, origin: o, h: c.Middleware(o)}
}

// do sends one request through the cache; fields are "Name: value".
func (h *harness) do(method, target string, fields ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = "http://example.com" + target
	}
	req := httptest.NewRequest(method, target, nil)
	for _, f := range fields {
		name, value, _ := strings.Cut(f, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

func (h *harness) get(target string, fields ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodGet, target, fields...)
}

// cacheStatus returns this cache's member of a response's Cache-Status.
func cacheStatusOf(rec *httptest.ResponseRecorder) string {
	v := rec.Header().Values("Cache-Status")
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// hit reports whether a response came from the cache without the origin.
func isHit(rec *httptest.ResponseRecorder) bool {
	return strings.Contains(cacheStatusOf(rec), "; hit")
}
