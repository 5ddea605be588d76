package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ceilingEnv, set to 1 in the environment, makes this binary run as the
// ceiling server rather than the harness: the harness re-executes itself
// so that the server is a process of its own whose CPU time /proc counts,
// like every peer's. An environment variable rather than a flag keeps the
// mode out of -help.
const ceilingEnv = "HITBOX_PROXYBENCH_CEILING"

// ceilingLabel is the ceiling server's row in the report: a reference,
// not a cache.
const ceilingLabel = "net/http (no cache, ceiling)"

// startCeiling starts this binary again as the ceiling server (see
// runCeiling) with the Go runtime's default GC and GOMAXPROCS: the
// variables that would change them are removed from its environment.
func startCeiling(ctx context.Context, a startArgs) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG", ceilingEnv:
			continue
		}
		env = append(env, kv)
	}
	cmd := exec.Command(exe, "-listen", addr, "-origin", a.origin,
		"-last-modified", a.lastModified, "-conns", strconv.Itoa(a.conns))
	cmd.Env = append(env, ceilingEnv+"=1")
	version := fmt.Sprintf("%s net/http server, the origin's responses held in memory, pass-through by a bare httputil.ReverseProxy; GOGC, GOMEMLIMIT and GOMAXPROCS at the runtime's defaults", runtime.Version())
	s, err := launch(ctx, "ceiling", a.dir, addr, version, cmd)
	if err != nil {
		return nil, err
	}
	s.label = ceilingLabel
	return s, nil
}

// ceilingResponse is one response the ceiling server holds: its header
// fields, shared by every request (net/http only reads them), and body.
type ceilingResponse struct {
	header http.Header
	body   []byte
}

// runCeiling is the ceiling server: a plain net/http server that answers
// each URL of the hit workloads with the status, header fields
// (Content-Type, Content-Length, Cache-Control and Last-Modified as the
// origin sends them; net/http adds Date) and body bytes the origin would,
// from a map in memory, and forwards every other request to the origin
// through a bare httputil.ReverseProxy. No cache does less per request
// over net/http, so its req/CPU-s bounds what a Go proxy on net/http can
// reach on the same machine.
func runCeiling(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	originAddr := fs.String("origin", "", "the origin's host:port")
	lm := fs.String("last-modified", "", "the origin's Last-Modified")
	conns := fs.Int("conns", 32, "the load generator's connections: the idle connections kept to the origin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	handler, err := ceilingHandler(*originAddr, *lm, *conns)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// ceilingHandler is the ceiling server's handler (see runCeiling) for the
// origin at originAddr whose responses carry Last-Modified lm.
func ceilingHandler(originAddr, lm string, conns int) (http.Handler, error) {
	originURL, err := url.Parse("http://" + originAddr)
	if err != nil || originAddr == "" {
		return nil, fmt.Errorf("-origin %q: want host:port", originAddr)
	}
	b1, b16 := originBodies()
	held := map[string]*ceilingResponse{}
	hold := func(path string, body []byte) {
		h := http.Header{
			"Content-Type":   {originContentType},
			"Cache-Control":  {cacheableCC},
			"Content-Length": {strconv.Itoa(len(body))},
		}
		if lm != "" {
			h["Last-Modified"] = []string{lm}
		}
		held[path] = &ceilingResponse{header: h, body: body}
	}
	hold("/1k", b1)
	hold("/16k", b16)
	for _, w := range allWorkloads {
		for i := range w.urls {
			// A body of its own per URL, as a cache holds them.
			hold("/u/"+strconv.Itoa(i), append([]byte(nil), b1...))
		}
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(originURL)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        2 * max(conns, 64),
			MaxIdleConnsPerHost: max(conns, 64),
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if cr := held[r.URL.Path]; cr != nil && r.URL.RawQuery == "" {
				h := w.Header()
				for k, v := range cr.header {
					h[k] = v
				}
				_, _ = w.Write(cr.body)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}), nil
}
