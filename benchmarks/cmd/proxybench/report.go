package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

type row struct {
	server, note string
}

type report struct {
	started      time.Time
	took         time.Duration
	load0, load1 float64
	gen          string
	cfg          config
	workloads    []workload
	servers      []*server
	results      map[string]map[string][]sample
	absent       []row
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Caching proxies side by side\n\n")
	fmt.Fprintf(&b, "Written by `go run ./cmd/proxybench` (benchmarks module) on %s, %s/%s, %d CPUs; load average %.1f at the start, %.1f at the end; took %s.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.load0, r.load1, r.took.Round(time.Second))
	fmt.Fprintf(&b, "Every server proxies the same Go origin on loopback with %d MiB of cache and access logs off; load: %s, %d keep-alive connections, %s per run after %s of unmeasured load per workload, %d interleaved rounds; figures are medians over the rounds. req/CPU-s is requests per CPU-second of the server's processes (utime+stime from /proc, the process and its descendants): the fair figure on a shared machine. A hit row marked * had a round in which the origin's request count moved (not every request was a hit).\n\n",
		cacheMiB, r.gen, r.cfg.conns, r.cfg.dur, r.cfg.warmLoad, r.cfg.rounds)
	for _, s := range r.servers {
		if s.name == "ceiling" {
			fmt.Fprintf(&b, "The %s row is a reference, not a cache: a plain Go net/http server (its own process, the runtime's default GC and GOMAXPROCS) that answers each hit URL with the origin's status, header fields and body bytes held in memory, and forwards pass-through requests to the origin with a bare httputil.ReverseProxy. It bounds what a proxy built on net/http can reach here: its hit rows never reach the origin, its pass-through row does, as every server's must.\n\n", s.label)
		}
	}
	for _, s := range r.servers {
		if s.name == "hitbox-1p" {
			fmt.Fprintf(&b, "The %s row is the same proxy with the Go scheduler given one processor (GOMAXPROCS=1) where the runtime's default gives it one per core: on this machine the load generator shares the cores, and with two processors an idle one spins looking for work and a goroutine waits whenever the OS takes its processor's thread away for the load generator. It is a setting an operator can choose (the environment variable), not the default, so the ratios stay to the hitbox row.\n\n", s.label)
		}
	}
	fmt.Fprintf(&b, "Servers:\n\n")
	for _, s := range r.servers {
		fmt.Fprintf(&b, "- %s: %s\n", s.display(), s.version)
	}
	for _, a := range r.absent {
		fmt.Fprintf(&b, "- %s: %s\n", a.server, a.note)
	}
	b.WriteString("\n")
	for _, w := range r.workloads {
		fmt.Fprintf(&b, "## %s\n\n", w.title)
		b.WriteString("| server | req/s | req/CPU-s | × hitbox (req/CPU-s) | p50 | p99 | load avg |\n|---|---|---|---|---|---|---|\n")
		var base float64
		if hb := r.results["hitbox"][w.name]; len(hb) > 0 {
			base = median(perCPU(hb))
		}
		for _, s := range r.servers {
			sm := r.results[s.name][w.name]
			if len(sm) == 0 {
				fmt.Fprintf(&b, "| %s | no run succeeded (see the notes) | | | | | |\n", s.display())
				continue
			}
			var rps, cpu, p50, p99, load []float64
			star := ""
			for _, x := range sm {
				rps = append(rps, x.rps)
				cpu = append(cpu, x.perCPU)
				p50 = append(p50, ms(x.p50))
				p99 = append(p99, ms(x.p99))
				load = append(load, x.load)
				if x.notAllHits {
					star = "*"
				}
			}
			ratio := "–"
			if base > 0 {
				ratio = fmt.Sprintf("%.2f", median(cpu)/base)
			}
			fmt.Fprintf(&b, "| %s%s | %.0f | %.0f | %s | %.2f ms | %.2f ms | %.1f |\n",
				s.display(), star, median(rps), median(cpu), ratio, median(p50), median(p99), median(load))
		}
		for _, a := range r.absent {
			fmt.Fprintf(&b, "| %s | %s | | | | | |\n", a.server, a.note)
		}
		b.WriteString("\n")
	}
	var notes []string
	for _, s := range r.servers {
		for _, n := range s.notes {
			notes = append(notes, s.display()+": "+n)
		}
	}
	if len(notes) > 0 {
		b.WriteString("Notes:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func perCPU(v []sample) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x.perCPU
	}
	return out
}
