// Command proxybench measures examples/proxy beside the caching proxies a
// user would otherwise put in front of a service: Varnish, nginx
// (proxy_cache), Apache Traffic Server and Squid, each started from the
// system's packages when installed, by hand, with its configuration and
// runtime files under a temporary folder, 256 MiB of cache, access logs
// off and loopback ports only; never as a system service.
//
// Every server proxies one small Go origin that runs in this process and
// counts its requests. The load is wrk (32 keep-alive connections) when it
// is installed, else a Go keep-alive load generator with as many
// connections. The workloads are a cached 1 KiB hit, a cached 16 KiB hit,
// hits spread over 10,000 URLs, and a pass-through response (no-store).
// Rounds are interleaved (each round runs every workload on every server,
// in a rotating order) and the report gives medians of: requests per
// second, requests per CPU-second of the server's processes (utime+stime
// from /proc, the process and its descendants, all threads), p50 and p99
// latency. During the hit rounds the origin's request count must stay
// still: a round in which it moved is flagged as not all hits.
//
// A reference row, "net/http (no cache, ceiling)" (-only 'ceiling'), runs
// beside them: this binary re-executed as a plain net/http server that
// answers the hit URLs with the origin's bytes held in memory and passes
// the rest through a bare httputil.ReverseProxy, with the runtime's
// default GC. No proxy on net/http does less per request, so its
// req/CPU-s is the ceiling for examples/proxy on the same machine.
//
// Run it from the benchmarks folder:
//
//	go run ./cmd/proxybench                      # writes PROXY.md
//	go run ./cmd/proxybench -rounds 3 -d 4s -only 'hitbox|nginx'
//	go run ./cmd/proxybench -proxy-args '-pprof 127.0.0.1:6060' -rounds 1
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func main() {
	if os.Getenv(ceilingEnv) == "1" {
		if err := runCeiling(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "proxybench ceiling:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	flag.StringVar(&cfg.out, "o", "PROXY.md", "the report to write")
	flag.IntVar(&cfg.rounds, "rounds", 5, "interleaved rounds; the report gives medians")
	flag.DurationVar(&cfg.dur, "d", 5*time.Second, "length of one measured run")
	flag.IntVar(&cfg.conns, "c", 32, "keep-alive connections of the load generator")
	flag.StringVar(&cfg.only, "only", "", "run only the servers whose name matches this regular expression")
	flag.StringVar(&cfg.workloads, "w", "", "run only the workloads whose name matches this regular expression")
	flag.StringVar(&cfg.root, "root", "..", "the hitbox repository (examples/proxy is built from it)")
	flag.StringVar(&cfg.proxyArgs, "proxy-args", "", "extra flags for examples/proxy (space-separated)")
	flag.DurationVar(&cfg.warmLoad, "warm-load", 2*time.Second, "unmeasured load on each server and workload before the rounds, so that no round pays a server's first growth (a Go heap's growth, pools, page faults)")
	flag.BoolVar(&cfg.goLoad, "go-load", false, "use the Go load generator even when wrk is installed")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temporary folder (configurations and logs)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

type config struct {
	out, only, workloads, root, proxyArgs string
	rounds, conns                         int
	dur, warmLoad                         time.Duration
	goLoad, keep                          bool
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func run(ctx context.Context, cfg config) error {
	var srvFilter, wlFilter *regexp.Regexp
	var err error
	if cfg.only != "" {
		if srvFilter, err = regexp.Compile(cfg.only); err != nil {
			return fmt.Errorf("-only: %w", err)
		}
	}
	if cfg.workloads != "" {
		if wlFilter, err = regexp.Compile(cfg.workloads); err != nil {
			return fmt.Errorf("-w: %w", err)
		}
	}
	tmp, err := os.MkdirTemp("", "hitbox-proxybench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	// Peers that drop privileges (nginx workers, Squid) write under it.
	if err := os.Chmod(tmp, 0o777); err != nil {
		return err
	}
	started := time.Now()
	load0 := loadAvg()

	org, err := startOrigin()
	if err != nil {
		return err
	}
	defer org.close()
	logf("origin on %s", org.addr)

	var gen loadGen = &goLoad{}
	if w, err := newWrk(tmp); err == nil && !cfg.goLoad {
		gen = w
	}
	logf("load generator: %s", gen.name())

	var servers []*server
	var rows []row // servers that could not run
	for _, p := range peers {
		if srvFilter != nil && !srvFilter.MatchString(p.name) && (p.label == "" || !srvFilter.MatchString(p.label)) {
			continue
		}
		if why := p.available(); why != "" {
			rows = append(rows, row{server: cmp.Or(p.label, p.name), note: why})
			logf("%s: %s", p.name, why)
			continue
		}
		dir := filepath.Join(tmp, p.name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		_ = os.Chmod(dir, 0o777)
		s, err := p.start(ctx, startArgs{dir: dir, origin: org.addr, root: cfg.root, lastModified: org.lastModified, conns: cfg.conns, extra: strings.Fields(cfg.proxyArgs)})
		if err != nil {
			rows = append(rows, row{server: cmp.Or(p.label, p.name), note: "did not start: " + oneLine(err.Error())})
			logf("%s did not start: %v", p.name, err)
			continue
		}
		defer s.stop()
		logf("%s (%s) on %s, pid %d", p.name, s.version, s.addr, s.pid)
		servers = append(servers, s)
	}
	var wls []workload
	for _, w := range allWorkloads {
		if wlFilter == nil || wlFilter.MatchString(w.name) {
			wls = append(wls, w)
		}
	}
	// Warm every cache: each URL once, then check that a second pass is
	// all hits.
	for _, s := range servers {
		for _, w := range wls {
			if !w.hit {
				continue
			}
			if err := warm(ctx, s, org, w); err != nil {
				s.notes = append(s.notes, fmt.Sprintf("%s: %v", w.name, err))
				logf("%s %s: %v", s.name, w.name, err)
			}
		}
	}

	// Unmeasured load first: every server reaches its steady state.
	if cfg.warmLoad > 0 {
		for _, s := range servers {
			for _, w := range wls {
				if _, err := gen.run(ctx, w.urlList(s.addr), cfg.conns, cfg.warmLoad); err != nil {
					logf("%s %s warm load: %v", s.name, w.name, err)
				}
			}
		}
	}

	res := map[string]map[string][]sample{} // server, workload
	for _, s := range servers {
		res[s.name] = map[string][]sample{}
	}
	for r := 0; r < cfg.rounds; r++ {
		for _, w := range wls {
			for i := range servers {
				s := servers[(i+r)%len(servers)]
				if ctx.Err() != nil {
					return ctx.Err()
				}
				sm, err := measure(ctx, gen, s, org, w, cfg)
				if err != nil {
					logf("%s %s round %d: %v", s.name, w.name, r+1, err)
					s.notes = append(s.notes, fmt.Sprintf("%s round %d: %v", w.name, r+1, oneLine(err.Error())))
					continue
				}
				logf("%-14s %-8s round %d: %8.0f req/s %8.0f req/CPU-s p50 %6.2fms p99 %6.2fms origin+%d load %.1f",
					s.name, w.name, r+1, sm.rps, sm.perCPU, ms(sm.p50), ms(sm.p99), sm.originDelta, sm.load)
				res[s.name][w.name] = append(res[s.name][w.name], sm)
			}
		}
	}
	rep := report{
		started: started, took: time.Since(started), load0: load0, load1: loadAvg(),
		gen: gen.name(), cfg: cfg, workloads: wls, servers: servers, results: res, absent: rows,
	}
	md := rep.markdown()
	if err := os.WriteFile(cfg.out, []byte(md), 0o644); err != nil {
		return err
	}
	logf("wrote %s (%s)", cfg.out, time.Since(started).Round(time.Second))
	if len(servers) == 0 {
		return errors.New("no server ran")
	}
	return nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
