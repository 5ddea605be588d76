package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPassThrough measures what the proxy adds to a response it
// must not store (Cache-Control: no-store) over a bare
// httputil.ReverseProxy with the same origin transport: one client, one
// origin and the proxy in one process on loopback, keep-alive, one
// request at a time. The client's and the origin's work is the same in
// both, so the difference of allocs/op (and of instructions, under
// callgrind) is the proxy's own. "hit" is the proxy answering a stored
// 1 KiB response, "hit-bare" a plain net/http server answering the same
// response held in memory: their difference is what a hit costs the
// proxy over net/http itself. "hit-10k" is the proxy answering stored
// responses of 10,000 URLs in turn (after filling them all into its
// front), the hit over many URLs where per-entry work shows.
//
//	go test -run '^$' -bench PassThrough -benchmem -count 6 ./examples/proxy/
//
// Instructions a request are the difference of two callgrind runs of one
// case (-benchtime Nx for two N) over the difference of N. Run the pairs
// to compare side by side: the runtime's own work under callgrind (its
// monitor thread, the network poller) moves with the machine's load by a
// few thousand instructions a request. With GOGC=off, set GOMEMLIMIT
// high too: hit-10k's fill allocates enough to bring the collector in
// under the proxy's own memory limit, in one run and not the other.
func BenchmarkPassThrough(b *testing.B) {
	pt := newPassThrough(b)
	var many func()
	for _, bc := range []struct{ name, url string }{
		{"bare", pt.bare + "/pass"},
		{"proxy", pt.proxy + "/pass"},
		{"hit", pt.proxy + "/hit"},
		{"hit-bare", pt.held + "/hit"},
		{"hit-10k", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var get func()
			if bc.url != "" {
				get = pt.getter(b, bc.url)
			} else {
				if many == nil {
					// Filled once, whatever the benchmark's runs: a miss,
					// then two hits (the front's doorkeeper admits a key on
					// its second read), then one that stamps every entry.
					urls := make([]string, 10_000)
					for i := range urls {
						urls[i] = pt.proxy + "/hit?u=" + strconv.Itoa(i)
					}
					many = pt.getter(b, urls...)
					for range 4 * len(urls) {
						many()
					}
				}
				get = many
			}
			get() // a connection each way, and the stored response for "hit"
			get()
			b.ReportAllocs()
			b.SetBytes(int64(len(pt.body)))
			for b.Loop() {
				get()
			}
		})
	}
}

// TestPassThroughAllocations: a response the proxy must not store costs
// no more allocations than through a bare httputil.ReverseProxy over
// net/http's transport: the cache's own are fewer than what directTransport
// saves (14 fewer in all when written; 8 more with it off, 17
// before the stats counter was pooled, the latency writer dropped and the
// framing scanners read headers in place). The client and the origin do
// the same work in both, so the difference is the proxy's and the
// cache's. Not parallel: the count is of the whole process.
func TestPassThroughAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations of real round trips")
	}
	pt := newPassThrough(t)
	allocs := func(url string) float64 {
		get := pt.getter(t, url)
		get()
		get()
		return testing.AllocsPerRun(200, get)
	}
	bare, proxy := allocs(pt.bare+"/pass"), allocs(pt.proxy+"/pass")
	t.Logf("pass-through: %.0f allocations per request, bare ReverseProxy %.0f", proxy, bare)
	if proxy > bare {
		t.Errorf("pass-through: %.0f allocations per request, %.0f through a bare ReverseProxy: %.0f more, want none more", proxy, bare, proxy-bare)
	}
}

// passThrough is an origin with a stored (/hit) and a no-store (/pass)
// 1 KiB response, a bare httputil.ReverseProxy to it and the proxy.
type passThrough struct {
	body              []byte
	bare, proxy, held string
}

func newPassThrough(tb testing.TB) *passThrough {
	tb.Helper()
	body := bytes.Repeat([]byte("0123456789abcdef"), 64)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/hit" {
			w.Header().Set("Cache-Control", "max-age=3600")
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		_, _ = w.Write(body)
	}))
	tb.Cleanup(origin.Close)
	originURL, _ := url.Parse(origin.URL)

	bareTransport := originTransport(30 * time.Second)
	tb.Cleanup(bareTransport.CloseIdleConnections)
	bare := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(originURL)
			pr.SetXForwarded()
		},
		Transport: bareTransport,
	})
	tb.Cleanup(bare.Close)

	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Cache-Control"] = []string{"max-age=3600"}
		h["Date"] = []string{"Sat, 05 Dec 2026 16:00:00 GMT"}
		h["Content-Length"] = []string{"1024"}
		_, _ = w.Write(body)
	}))
	tb.Cleanup(held.Close)

	proxy, stop := startBenchProxy(tb, origin.URL)
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Error(err)
		}
	})
	return &passThrough{body: body, bare: bare.URL, proxy: proxy, held: held.URL}
}

// getter returns a function that GETs urls in turn over a keep-alive
// connection of its own and checks the response.
func (pt *passThrough) getter(tb testing.TB, urls ...string) func() {
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	tb.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	buf := make([]byte, 4096)
	next := 0
	return func() {
		url := urls[next]
		if next++; next == len(urls) {
			next = 0
		}
		resp, err := client.Get(url)
		if err != nil {
			tb.Fatal(err)
		}
		n, _ := io.ReadFull(resp.Body, buf[:len(pt.body)])
		_ = resp.Body.Close()
		if n != len(pt.body) || resp.StatusCode != http.StatusOK {
			tb.Fatalf("%d, %d bytes", resp.StatusCode, n)
		}
	}
}

// startBenchProxy runs the proxy in-process with its defaults (no admin
// listener, no request log) and returns its base URL and a stop function.
func startBenchProxy(tb testing.TB, originURL string) (string, func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := newAddrs()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-origin", originURL, "-listen", "127.0.0.1:0", "-quiet"}, a.w, io.Discard)
		_ = a.w.Close()
		done <- err
	}()
	select {
	case addr := <-a.main:
		return "http://" + addr, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		tb.Fatalf("run: %v", err)
		return "", nil
	}
}
