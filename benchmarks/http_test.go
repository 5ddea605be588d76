package benchmarks

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	echocache "github.com/SporkHubr/echo-http-cache"
	echomemory "github.com/SporkHubr/echo-http-cache/adapter/memory"
	gincache "github.com/chenyahui/gin-cache"
	ginpersist "github.com/chenyahui/gin-cache/persist"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gregjones/httpcache"
	"github.com/labstack/echo/v4"

	hitboxhttp "github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// The HTTP workloads: a 1 KiB GET answered by a caching middleware on a
// real loopback server, against the same route with no cache at all, and
// the same middlewares passing a slow uncacheable response through.

// Routes every server has.
const (
	itemPath = "/item" // 1 KiB, fresh for an hour: cacheable by every peer
	slowPath = "/slow" // 1 KiB after 1 ms, Cache-Control: no-store
)

// httpPayload is the body both routes send: random bytes, so no
// compression anywhere could gain.
var httpPayload = sync.OnceValue(func() []byte {
	rng := rand.New(rand.NewPCG(7, 1<<10))
	b := make([]byte, 1<<10)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
})

// origin is the application behind the middleware: two handlers and the
// count of the times either ran.
type origin struct{ calls atomic.Int64 }

func (o *origin) item(w http.ResponseWriter, _ *http.Request) {
	o.calls.Add(1)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(httpPayload())
}

// slow is an origin that takes a millisecond (a database, another
// service) and forbids storing what it sends.
func (o *origin) slow(w http.ResponseWriter, _ *http.Request) {
	o.calls.Add(1)
	time.Sleep(time.Millisecond)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(httpPayload())
}

// httpTarget is one server under test.
type httpTarget struct {
	base   string  // the server's URL; the routes are under it
	origin *origin // counts the handler's calls
	cached bool    // false for the bare routers: every GET reaches the handler
	client *http.Client
	close  func()
}

// httpImpl is one way of serving the routes.
type httpImpl struct {
	name string
	open func(tb testing.TB) *httpTarget
	// skip, when set, is why the peer has no figures: its sub-benchmarks
	// skip with it, so a report shows the row and the reason.
	skip string
}

// refused is why the peers the Go module proxy would not serve when this
// workload was written (every version asked for was refused) have no
// figures: they could not be built.
const refused = "not served by the Go module proxy: every version asked for was refused"

// newTarget starts h on a loopback server and returns the target with a
// keep-alive client tuned for it.
func newTarget(h http.Handler, o *origin, cached bool, closers ...func()) *httpTarget {
	srv := httptest.NewServer(h)
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
	return &httpTarget{base: srv.URL, origin: o, cached: cached, client: client, close: func() {
		client.CloseIdleConnections()
		srv.Close()
		for _, c := range closers {
			c()
		}
	}}
}

var httpImpls = []httpImpl{
	// The floor, "bare": chi routing straight to the handler, no cache.
	// (The names bare and httpcache are the ones cmd/report divides by.)
	{"bare", func(tb testing.TB) *httpTarget {
		o := &origin{}
		r := chi.NewRouter()
		r.Get(itemPath, o.item)
		r.Get(slowPath, o.slow)
		return newTarget(r, o, false)
	}, ""},
	// hitbox's httpcache: its RFC 9111 middleware over memstore (default
	// options), under chi's r.Use, as its package documentation shows.
	{"httpcache", func(tb testing.TB) *httpTarget {
		o := &origin{}
		store, err := memstore.New(memstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		c := hitboxhttp.New(store, hitboxhttp.Options{})
		r := chi.NewRouter()
		r.Use(c.Middleware)
		r.Get(itemPath, o.item)
		r.Get(slowPath, o.slow)
		return newTarget(r, o, true, func() { _ = c.Close() }, func() { _ = store.Close() })
	}, ""},
	// gregjones/httpcache is a client-side cache (an http.RoundTripper,
	// RFC 7234 as a private cache). On a server it is the Transport of a
	// reverse proxy in front of the application, here on a loopback server
	// of its own: a hit is answered by the proxy, a miss costs a second
	// hop. Its memory cache, as its README builds it.
	{"gregjones-httpcache", func(tb testing.TB) *httpTarget {
		o := &origin{}
		mux := http.NewServeMux()
		mux.HandleFunc("GET "+itemPath, o.item)
		mux.HandleFunc("GET "+slowPath, o.slow)
		app := httptest.NewServer(mux)
		appURL, err := url.Parse(app.URL)
		if err != nil {
			tb.Fatal(err)
		}
		tr := httpcache.NewMemoryCacheTransport()
		upstream := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
		tr.Transport = upstream
		proxy := &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(appURL) },
			Transport: tr,
		}
		return newTarget(proxy, o, true, upstream.CloseIdleConnections, app.Close)
	}, ""},
	// chenyahui/gin-cache on gin (release mode, no logger), keyed by the
	// request URI, its memory store, as its README builds it.
	{"gin-cache", func(tb testing.TB) *httpTarget {
		o := &origin{}
		store := ginpersist.NewMemoryStore(time.Hour)
		r := newGin()
		r.GET(itemPath, gincache.CacheByRequestURI(store, time.Hour), gin.WrapF(o.item))
		r.GET(slowPath, gincache.CacheByRequestURI(store, time.Hour), gin.WrapF(o.slow))
		return newTarget(r, o, true, func() { _ = store.Cache.Close() })
	}, ""},
	// gin with no cache: gin-cache's floor.
	{"gin", func(tb testing.TB) *httpTarget {
		o := &origin{}
		r := newGin()
		r.GET(itemPath, gin.WrapF(o.item))
		r.GET(slowPath, gin.WrapF(o.slow))
		return newTarget(r, o, false)
	}, ""},
	// SporkHubr/echo-http-cache (victorspringer/http-cache ported to echo)
	// on echo, its memory adapter with LRU, as its README builds it.
	{"echo-http-cache", func(tb testing.TB) *httpTarget {
		o := &origin{}
		mem, err := echomemory.NewAdapter(echomemory.AdapterWithAlgorithm(echomemory.LRU), echomemory.AdapterWithCapacity(10_000))
		if err != nil {
			tb.Fatal(err)
		}
		cc, err := echocache.NewClient(echocache.ClientWithAdapter(mem), echocache.ClientWithTTL(time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		e := echo.New()
		e.GET(itemPath, echo.WrapHandler(http.HandlerFunc(o.item)), cc.Middleware())
		e.GET(slowPath, echo.WrapHandler(http.HandlerFunc(o.slow)), cc.Middleware())
		return newTarget(e, o, true)
	}, ""},
	// echo with no cache: echo-http-cache's floor.
	{"echo", func(tb testing.TB) *httpTarget {
		o := &origin{}
		e := echo.New()
		e.GET(itemPath, echo.WrapHandler(http.HandlerFunc(o.item)))
		e.GET(slowPath, echo.WrapHandler(http.HandlerFunc(o.slow)))
		return newTarget(e, o, false)
	}, ""},
	// Well-known net/http caching middlewares that could not be had.
	{name: "victorspringer-http-cache", skip: refused},
	{name: "souin", skip: refused},
	{name: "go-chi-stampede", skip: refused},
}

var ginMode sync.Once

// newGin returns a bare gin engine in release mode: no logger, no
// recovery, no debug printing.
func newGin() *gin.Engine {
	ginMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	return gin.New()
}

// httpProcs are the ways the client drives the server, named as the other
// workloads name them: procs=1, one request at a time, and procs=P (P
// being GOMAXPROCS), from P goroutines at once (b.RunParallel).
func httpProcs() []string {
	if p := runtime.GOMAXPROCS(0); p > 1 {
		return []string{"1", strconv.Itoa(p)}
	}
	return []string{"1"}
}

// BenchmarkHTTP times a GET of a cached 1 KiB response over loopback with
// keep-alive connections: the caching middlewares answering from their
// cache, against the bare routers running the handler (impl=bare, which
// is chi, and gin and echo). Each cached target is warmed first and must answer the second
// request without calling the handler; a handler call during the timed
// loop fails the benchmark, as does any response that is not the 1 KiB
// body. The client, its connections and the server share the process, so
// ns/op and cpu-ns/op are the whole round trip, client included.
func BenchmarkHTTP(b *testing.B) {
	for _, procs := range httpProcs() {
		for _, impl := range httpImpls {
			httpLeaf(b, "size=1KiB/procs="+procs+"/impl="+impl.name, impl, func(b *testing.B, t *httpTarget) {
				u := t.base + itemPath
				if t.cached {
					warmHit(b, t, u)
				}
				before := t.origin.calls.Load()
				n := drive(b, t, procs, func(int64) string { return u })
				if calls := t.origin.calls.Load() - before; t.cached && calls > 0 {
					b.Fatalf("the handler ran %d times in %d requests: not every request was served from the cache", calls, n)
				}
			})
		}
	}
}

// BenchmarkHTTPSlow times the same GET when the handler takes a
// millisecond and answers Cache-Control: no-store: what each middleware
// adds on the path where it cannot help. Each request has a URL of its own
// (a query counter), so a middleware that stores responses despite
// no-store (gin-cache, echo-http-cache) misses too, and pays for storing
// each one; every request must reach the handler.
func BenchmarkHTTPSlow(b *testing.B) {
	for _, procs := range httpProcs() {
		for _, impl := range httpImpls {
			httpLeaf(b, "size=1KiB/procs="+procs+"/impl="+impl.name, impl, func(b *testing.B, t *httpTarget) {
				prefix := t.base + slowPath + "?n="
				var seq atomic.Int64
				seq.Store(time.Now().UnixNano()) // new URLs on every call of this function
				before := t.origin.calls.Load()
				n := drive(b, t, procs, func(int64) string { return prefix + strconv.FormatInt(seq.Add(1), 10) })
				if calls := t.origin.calls.Load() - before; calls != n {
					b.Fatalf("the handler ran %d times for %d requests: every one should reach it", calls, n)
				}
			})
		}
	}
}

// httpLeaf runs bench as the sub-benchmark name. The target is started on
// the first call of the sub-benchmark's function and kept for the calls
// the testing package makes with larger b.N, then closed.
func httpLeaf(b *testing.B, name string, impl httpImpl, bench func(*testing.B, *httpTarget)) {
	var t *httpTarget
	b.Run(name, func(b *testing.B) {
		if impl.skip != "" {
			b.Skip(impl.name + " cannot be measured: " + impl.skip)
		}
		if t == nil {
			t = impl.open(b)
		}
		bench(b, t)
	})
	if t != nil {
		t.close()
	}
}

// warmHit sends two GETs of u and fails b unless the second was answered
// without the handler.
func warmHit(b *testing.B, t *httpTarget, u string) {
	b.Helper()
	var buf bytes.Buffer
	if err := get(t.client, u, &buf); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	before := t.origin.calls.Load()
	if err := get(t.client, u, &buf); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	if t.origin.calls.Load() != before {
		b.Fatal("the second GET reached the handler: the middleware did not cache the response")
	}
}

// drive sends b.N GETs, to the URLs url gives, one at a time (procs "1")
// or from GOMAXPROCS goroutines (any other procs), and returns how many it
// sent. Any failed
// request fails b after the timed loop.
func drive(b *testing.B, t *httpTarget, procs string, url func(int64) string) int64 {
	b.ReportAllocs()
	var sent, failed atomic.Int64
	var first atomic.Pointer[error]
	fail := func(err error) {
		failed.Add(1)
		first.CompareAndSwap(nil, &err)
	}
	cpu := cpuTime()
	if procs == "1" {
		var buf bytes.Buffer
		for b.Loop() {
			if err := get(t.client, url(sent.Add(1)), &buf); err != nil {
				fail(err)
			}
		}
	} else {
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var buf bytes.Buffer
			for pb.Next() {
				if err := get(t.client, url(sent.Add(1)), &buf); err != nil {
					fail(err)
				}
			}
		})
	}
	reportCPU(b, cpu)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed; the first: %v", n, sent.Load(), *first.Load())
	}
	return sent.Load()
}

// errBody is what get returns for a response that is not the payload.
var errBody = errors.New("the body is not the 1 KiB payload")

// get GETs u, reading the body into buf, and checks it is a 200 with the
// payload.
func get(c *http.Client, u string, buf *bytes.Buffer) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if !bytes.Equal(buf.Bytes(), httpPayload()) {
		return errBody
	}
	return nil
}
