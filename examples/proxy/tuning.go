package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// tuning is what the command line sets about the process itself rather
// than the proxy: the Go runtime's memory limit, and a profiling listener.
type tuning struct {
	memLimit string // -memory-limit, read by memoryLimit
	pprof    string // -pprof: address of the net/http/pprof listener
}

// tuningFlags registers the tuning flags on fs.
func tuningFlags(fs *flag.FlagSet) *tuning {
	t := &tuning{}
	fs.StringVar(&t.memLimit, "memory-limit", "auto", "soft limit on the Go heap, as runtime/debug.SetMemoryLimit: "+
		"a size (KiB, MiB, GiB), auto for twice -memory plus 64MiB (unless $GOMEMLIMIT is set, which then stands), "+
		"or off for the Go runtime's own pacing. With a limit, and unless $GOGC is set, GOGC is 400: the collector "+
		"runs when the heap is five times what is live, or as it nears the limit. The live heap of a cache that "+
		"is not yet full is a few megabytes, and GOGC=100 alone collected about 90 times a second under load; "+
		"GOGC=off under the limit collects least but holds the heap at the limit, where the runtime keeps "+
		"returning and refaulting memory")
	fs.StringVar(&t.pprof, "pprof", "", "address of a listener serving net/http/pprof (/debug/pprof/) for profiling; none when empty; keep it on loopback")
	return t
}

// autoLimitHeadroom is what -memory-limit=auto adds to twice -memory: the
// front of decoded responses, connection buffers, the rest of the process.
const autoLimitHeadroom = 64 << 20

// limitGCPercent is GOGC under a memory limit the proxy sets.
const limitGCPercent = 400

// memoryLimit reads -memory-limit for a cache of memory bytes: the limit
// to set (0: leave the runtime's) and the GOGC to set under it (0: leave
// it). getenv looks up the environment.
func memoryLimit(flagValue string, memory int64, getenv func(string) (string, bool)) (limit int64, gcPercent int, err error) {
	switch strings.ToLower(strings.TrimSpace(flagValue)) {
	case "off", "none", "":
		return 0, 0, nil
	case "auto":
		if _, set := getenv("GOMEMLIMIT"); set {
			return 0, 0, nil // the operator's own limit stands, as does GOGC
		}
		if memory > (math.MaxInt64-autoLimitHeadroom)/2 {
			return 0, 0, fmt.Errorf("-memory-limit=auto: -memory %d is too large", memory)
		}
		limit = 2*memory + autoLimitHeadroom
	default:
		if limit, err = parseSize(flagValue); err != nil {
			return 0, 0, fmt.Errorf("-memory-limit: want a size, auto or off: %w", err)
		}
	}
	if _, set := getenv("GOGC"); set {
		return limit, 0, nil
	}
	return limit, limitGCPercent, nil
}

// apply sets the memory limit for a cache of memory bytes and starts the
// profiling listener; the returned func stops the listener and puts the
// runtime's previous settings back.
func (t *tuning) apply(stdout io.Writer, memory int64) (stop func(), err error) {
	stop = func() {}
	limit, gcPercent, err := memoryLimit(t.memLimit, memory, os.LookupEnv)
	if err != nil {
		return stop, err
	}
	if limit > 0 {
		prevLimit := debug.SetMemoryLimit(limit)
		prevGC := 0 // not changed
		if gcPercent > 0 {
			prevGC = debug.SetGCPercent(gcPercent)
		}
		stop = func() {
			if gcPercent > 0 {
				debug.SetGCPercent(prevGC)
			}
			debug.SetMemoryLimit(prevLimit)
		}
	}
	if t.pprof == "" {
		return stop, nil
	}
	ln, err := net.Listen("tcp", t.pprof)
	if err != nil {
		stop()
		return func() {}, fmt.Errorf("-pprof: %w", err)
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
	restore := stop
	return func() { _ = srv.Close(); <-done; restore() }, nil
}
