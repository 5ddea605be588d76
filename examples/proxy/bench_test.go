package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
// 1 KiB response, for scale.
//
//	go test -run '^$' -bench PassThrough -benchmem -count 6 ./examples/proxy/
func BenchmarkPassThrough(b *testing.B) {
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
	defer origin.Close()
	originURL, _ := url.Parse(origin.URL)

	bareTransport := originTransport(30 * time.Second)
	defer bareTransport.CloseIdleConnections()
	bare := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(originURL)
			pr.SetXForwarded()
		},
		Transport: bareTransport,
	})
	defer bare.Close()

	proxy, stop := startBenchProxy(b, origin.URL)
	defer func() {
		if err := stop(); err != nil {
			b.Error(err)
		}
	}()

	for _, bc := range []struct{ name, url string }{
		{"bare", bare.URL + "/pass"},
		{"proxy", proxy + "/pass"},
		{"hit", proxy + "/hit"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: 4}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			buf := make([]byte, 4096)
			get := func() {
				resp, err := client.Get(bc.url)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.ReadFull(resp.Body, buf[:len(body)])
				_ = resp.Body.Close()
				if n != len(body) || resp.StatusCode != http.StatusOK {
					b.Fatalf("%d, %d bytes", resp.StatusCode, n)
				}
			}
			get() // a connection each way, and the stored response for "hit"
			get()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				get()
			}
		})
	}
}

// startBenchProxy runs the proxy in-process with its defaults (no admin
// listener, no request log) and returns its base URL and a stop function.
func startBenchProxy(b *testing.B, originURL string) (string, func() error) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := newAddrs()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-origin", originURL, "-listen", "127.0.0.1:0", "-memory", "64MiB", "-quiet"}, a.w, io.Discard)
		_ = a.w.Close()
		done <- err
	}()
	select {
	case addr := <-a.main:
		return "http://" + addr, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		b.Fatalf("run: %v", err)
		return "", nil
	}
}
