package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"
)

// tuning is what the command line sets about the process itself rather
// than the proxy: the Go runtime's memory limit, and a profiling listener.
type tuning struct {
	memLimit string // -memory-limit, parsed by apply
	pprof    string // -pprof: address of the net/http/pprof listener
}

// tuningFlags registers the tuning flags on fs.
func tuningFlags(fs *flag.FlagSet) *tuning {
	t := &tuning{}
	fs.StringVar(&t.memLimit, "memory-limit", "", "soft limit on the Go heap (KiB, MiB, GiB), as runtime/debug.SetMemoryLimit: "+
		"unless $GOGC is set, the collector then runs only as the heap nears it (GOGC=off), "+
		"so leave room for the cache and the requests in flight (twice -memory, say); none when empty")
	fs.StringVar(&t.pprof, "pprof", "", "address of a listener serving net/http/pprof (/debug/pprof/) for profiling; none when empty; keep it on loopback")
	return t
}

// apply sets the memory limit and starts the profiling listener; the
// returned func stops the listener.
func (t *tuning) apply(stdout io.Writer) (stop func(), err error) {
	stop = func() {}
	if t.memLimit != "" {
		n, err := parseSize(t.memLimit)
		if err != nil {
			return stop, fmt.Errorf("-memory-limit: %w", err)
		}
		debug.SetMemoryLimit(n)
		if _, set := os.LookupEnv("GOGC"); !set {
			// The limit rather than GOGC paces the collector: a cache
			// process keeps its memory anyway, and with a small live heap
			// GOGC=100 would collect every few megabytes of garbage.
			debug.SetGCPercent(-1)
		}
	}
	if t.pprof == "" {
		return stop, nil
	}
	ln, err := net.Listen("tcp", t.pprof)
	if err != nil {
		return stop, fmt.Errorf("-pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stdout, "pprof listener:", err)
		}
	}()
	fmt.Fprintf(stdout, "pprof listening on %s\n", ln.Addr())
	return func() { _ = srv.Close(); <-done }, nil
}
