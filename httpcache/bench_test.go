package httpcache_test

// The four speed measurements. Each compares the middleware with
// the same handler without it; divide the figures to get the ratios:
//
//	go test -run '^$' -bench . -benchtime=1s -count=3 ./httpcache/
//
// BenchmarkHitServer    a cached 1 KiB GET through chi + middleware + memstore on a
//                       real http.Server on loopback, keep-alive clients, RunParallel
// BenchmarkHitRecorder  the same hit without the network (httptest.ResponseRecorder)
// BenchmarkMiss         a miss each time, over internal/mapstore (a map behind a
//                       mutex: its Get and Set cost little, and Store measures them)
// BenchmarkSlowHandler  a handler that takes 50 ms, cached and uncached, RunParallel
//
// HitRecorder and Miss report cpu-ns/op (internal/benchcpu) beside ns/op:
// on a shared machine it is the figure that holds.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/internal/benchcpu"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// payload is the 1 KiB body every benchmark serves.
var payload = bytes.Repeat([]byte("0123456789abcdef"), 64)

// doc writes payload from a variable, as a cacheable response.
func doc(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(payload)
}

// router serves doc on /doc, through mw when it is not nil.
func router(mw func(http.Handler) http.Handler, h http.HandlerFunc) http.Handler {
	r := chi.NewRouter()
	if mw != nil {
		r.With(mw).Get("/doc", h)
	} else {
		r.Get("/doc", h)
	}
	return r
}

func newMemCache(b *testing.B) *httpcache.Cache {
	b.Helper()
	store, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
	if err != nil {
		b.Fatal(err)
	}
	c := httpcache.New(store, httpcache.Options{})
	b.Cleanup(func() {
		_ = c.Close()
		_ = store.Close()
	})
	return c
}

func BenchmarkHitServer(b *testing.B) {
	for _, bc := range []struct {
		name   string
		cached bool
	}{{"bare", false}, {"cached", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var mw func(http.Handler) http.Handler
			if bc.cached {
				mw = newMemCache(b).Middleware
			}
			srv := httptest.NewServer(router(mw, doc))
			defer srv.Close()
			tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := srv.URL + "/doc"
			warm(b, client, url)

			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 4096)
				for pb.Next() {
					resp, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.ReadFull(resp.Body, buf[:len(payload)])
					_ = resp.Body.Close()
					if n != len(payload) {
						b.Errorf("read %d bytes, want %d", n, len(payload))
						return
					}
				}
			})
		})
	}
}

// warm makes the first request, so a cached run measures hits only.
func warm(b *testing.B, client *http.Client, url string) {
	b.Helper()
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func BenchmarkHitRecorder(b *testing.B) {
	for _, bc := range []struct {
		name   string
		cached bool
	}{{"bare", false}, {"cached", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var mw func(http.Handler) http.Handler
			if bc.cached {
				mw = newMemCache(b).Middleware
			}
			h := router(mw, doc)
			req := httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil)
			h.ServeHTTP(httptest.NewRecorder(), req) // store it

			b.ReportAllocs()
			b.ResetTimer()
			cpu := benchcpu.Start()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Body.Len() != len(payload) {
					b.Fatalf("body %d bytes, want %d", rec.Body.Len(), len(payload))
				}
			}
			cpu.Report(b, b.N)
		})
	}
}

// BenchmarkMiss makes every request a miss: the response is fresh for one
// second and the fake clock moves two days before each request, past any
// time the stored copy is kept for (MaxKeep, 24h), so it has expired in
// mapstore and the lookup misses; the handler runs and the new response is
// stored. Store measures mapstore's own Get (a miss) and Set of a stored
// response's size, to subtract.
func BenchmarkMiss(b *testing.B) {
	short := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "max-age=1")
		_, _ = w.Write(payload)
	}
	b.Run("bare", func(b *testing.B) {
		h := router(nil, short)
		req := httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil)
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		cpu.Report(b, b.N)
	})
	b.Run("miss", func(b *testing.B) {
		clock := hitboxtest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		store := mapstore.New(mapstore.Options{Now: clock.Now})
		c := httpcache.New(store, httpcache.Options{Now: clock.Now})
		defer c.Close()
		h := router(c.Middleware, short)
		req := httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil)
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			clock.Advance(48 * time.Hour)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if cs := rec.Header().Get("Cache-Status"); !strings.Contains(cs, "fwd=uri-miss") {
				b.Fatalf("Cache-Status %q, want fwd=uri-miss", cs)
			}
		}
		cpu.Report(b, b.N)
	})
	b.Run("store", func(b *testing.B) {
		ctx := context.Background()
		store := mapstore.New(mapstore.Options{})
		value := make([]byte, len(payload)+200) // about a stored response's size
		e := hitbox.Entry{Value: value, Stale: time.Now().Add(time.Hour), Expire: time.Now().Add(time.Hour)}
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			_, _ = store.Get(ctx, "absent")
			_ = store.Set(ctx, "k", e)
		}
		cpu.Report(b, b.N)
	})
}

// BenchmarkSlowHandler compares throughput with a handler that takes 50 ms:
// uncached every request waits for it; cached only the first does. Both
// run 64 clients per core; req/s is the figure to compare.
func BenchmarkSlowHandler(b *testing.B) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // the work being cached
		doc(w, r)
	}
	for _, bc := range []struct {
		name   string
		cached bool
	}{{"uncached", false}, {"cached", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var mw func(http.Handler) http.Handler
			if bc.cached {
				mw = newMemCache(b).Middleware
			}
			h := router(mw, slow)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil))
			b.ReportAllocs()
			b.SetParallelism(64)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "http://example.test/doc", nil)
				for pb.Next() {
					h.ServeHTTP(httptest.NewRecorder(), req)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
