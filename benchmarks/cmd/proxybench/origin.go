package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// workload is one kind of request the servers are measured on.
type workload struct {
	name  string
	title string
	path  string // a single URL; "" means urls URLs under /u/
	urls  int
	hit   bool // every request must be answered from the cache
}

var allWorkloads = []workload{
	{name: "hit1k", title: "cached 1 KiB hit", path: "/1k", hit: true},
	{name: "hit16k", title: "cached 16 KiB hit", path: "/16k", hit: true},
	{name: "hit10kurl", title: "hits over 10,000 URLs (1 KiB each)", urls: 10000, hit: true},
	{name: "pass", title: "pass-through (no-store, 1 KiB)", path: "/nostore"},
}

// origin is the server every proxy forwards to: cacheable bodies of 1 and
// 16 KiB, 10,000 cacheable 1 KiB URLs, and a no-store one. It counts the
// requests it answers.
type origin struct {
	addr         string
	lastModified string // the Last-Modified of every response
	srv          *http.Server
	n            atomic.Int64
}

// The origin's Content-Type, and the Cache-Control of its cacheable
// responses; the ceiling server sends the same.
const (
	originContentType = "application/octet-stream"
	cacheableCC       = "public, max-age=3600"
)

// originBodies are the origin's 1 KiB and 16 KiB bodies; the ceiling
// server answers with the same bytes.
func originBodies() (b1, b16 []byte) {
	b1 = bytes.Repeat([]byte("0123456789abcdef"), 64)
	return b1, bytes.Repeat(b1, 16)
}

func startOrigin() (*origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	lm := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	o := &origin{addr: ln.Addr().String(), lastModified: lm}
	b1, b16 := originBodies()
	serve := func(w http.ResponseWriter, body []byte, cc string) {
		h := w.Header()
		h["Content-Type"] = []string{originContentType}
		h["Cache-Control"] = []string{cc}
		h["Last-Modified"] = []string{lm}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		_, _ = w.Write(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/1k", func(w http.ResponseWriter, _ *http.Request) {
		o.n.Add(1)
		serve(w, b1, cacheableCC)
	})
	mux.HandleFunc("/16k", func(w http.ResponseWriter, _ *http.Request) {
		o.n.Add(1)
		serve(w, b16, cacheableCC)
	})
	mux.HandleFunc("/u/", func(w http.ResponseWriter, _ *http.Request) {
		o.n.Add(1)
		serve(w, b1, cacheableCC)
	})
	mux.HandleFunc("/nostore", func(w http.ResponseWriter, _ *http.Request) {
		o.n.Add(1)
		serve(w, b1, "no-store")
	})
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = o.srv.Serve(ln) }()
	return o, nil
}

func (o *origin) close() { _ = o.srv.Close() }

// warm requests every URL of w through s once, then again, and fails when
// the second pass reached the origin.
func warm(ctx context.Context, s *server, o *origin, w workload) error {
	urls := w.urlList(s.addr)
	get := func() error { return fetchAll(ctx, urls) }
	if err := get(); err != nil {
		return err
	}
	if w.urls > 0 {
		// Some caches store a response only once it has been read whole:
		// give them a moment before the check.
		time.Sleep(200 * time.Millisecond)
	}
	before := o.n.Load()
	if err := get(); err != nil {
		return err
	}
	if d := o.n.Load() - before; d != 0 {
		return fmt.Errorf("the second pass reached the origin %d times of %d: not cached", d, len(urls))
	}
	return nil
}

func (w workload) urlList(addr string) []string {
	if w.urls == 0 {
		return []string{"http://" + addr + w.path}
	}
	u := make([]string, w.urls)
	for i := range u {
		u[i] = "http://" + addr + "/u/" + strconv.Itoa(i)
	}
	return u
}

var warmClient = &http.Client{
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, DisableCompression: true},
	Timeout:   10 * time.Second,
}

// fetchAll gets every URL, 16 at a time, and checks each is a 200.
func fetchAll(ctx context.Context, urls []string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
	)
	next := atomic.Int64{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(urls) || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, urls[i], nil)
				resp, err := warmClient.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: status %d", urls[i], resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return ferr
}
