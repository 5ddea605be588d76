package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// outcome is what one workload's `go test -bench -v` output says: a cell
// per configuration and implementation, holding each run's value of each
// unit, or why it did not run.
type outcome struct {
	W       workload
	Status  string   // "" when it ran; otherwise why the workload has no figures
	Configs []string // sub-benchmark names without the impl, in order of appearance
	Impls   []string // impl names, in order of appearance
	Units   []string // every unit reported, in order of appearance
	Cells   map[cellKey]*cell
}

type cellKey struct{ Config, Impl string }

// cell is one sub-benchmark: the runs' values by unit, or a skip or a
// failure message.
type cell struct {
	Values map[string][]float64
	Skip   string
	Fail   string
}

// stat is the summary of one cell's unit over its runs.
type stat struct {
	Center float64 // the median
	Spread float64 // in percent of Center; see summarize
	N      int
}

// parse reads the output of one workload's run. Only sub-benchmarks of
// Benchmark<w.Name> count. A workload with neither a result nor a skip is
// "not run".
func parse(out []byte, w workload) (*outcome, error) {
	o := &outcome{W: w, Cells: make(map[cellKey]*cell)}
	// Skips and failures: go test -v prints "--- SKIP: <name>" with the
	// message indented beside it (before it when streamed, after it
	// otherwise).
	var pending []string
	var last *string
	var whole string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case strings.HasPrefix(trimmed, "--- SKIP: "), strings.HasPrefix(trimmed, "--- FAIL: "):
			skip := strings.HasPrefix(trimmed, "--- SKIP: ")
			name := strings.TrimSpace(trimmed[len("--- SKIP: "):])
			if i := strings.Index(name, " ("); i >= 0 {
				name = name[:i] // "--- FAIL: name (0.00s)"
			}
			msg := strings.Join(pending, "; ")
			pending = nil
			base, config, impl := splitName(strings.TrimPrefix(name, "Benchmark"), false)
			if base != w.Name {
				last = nil
				continue
			}
			if impl == "" {
				// The whole workload (or a group of it) skipped or failed:
				// it says so only when no sub-benchmark says more.
				if whole == "" {
					whole = map[bool]string{true: "skipped: ", false: "failed: "}[skip] + msg
				}
				last = nil
				continue
			}
			c := o.cell(config, impl)
			if skip {
				c.Skip = msg
				last = &c.Skip
			} else {
				c.Fail = msg
				last = &c.Fail
			}
		case strings.HasPrefix(trimmed, "=== RUN"), strings.HasPrefix(line, "Benchmark"+w.Name+"/"):
			// A sub-benchmark starting: its cell takes its place in the
			// table's order now, whatever it prints later.
			f := strings.Fields(strings.TrimPrefix(trimmed, "=== RUN"))
			if len(f) == 1 {
				if base, config, impl := splitName(strings.TrimPrefix(f[0], "Benchmark"), false); base == w.Name && impl != "" {
					o.cell(config, impl)
				}
			}
			pending, last = nil, nil
		case strings.HasPrefix(line, "    "):
			msg := stripFileLine(strings.TrimSpace(line))
			if last != nil && *last == "" {
				*last = msg
			} else {
				pending = append(pending, msg)
			}
		default:
			pending, last = nil, nil
		}
	}
	r := benchfmt.NewReader(bytes.NewReader(out), w.Name)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		base, config, impl := splitName(string(res.Name.Full()), true)
		if base != w.Name || impl == "" {
			continue
		}
		c := o.cell(config, impl)
		for _, v := range res.Values {
			unit, val := v.OrigUnit, v.OrigValue
			if unit == "" {
				unit, val = v.Unit, v.Value
			}
			if !slices.Contains(o.Units, unit) {
				o.Units = append(o.Units, unit)
			}
			c.Values[unit] = append(c.Values[unit], val)
		}
	}
	if err := r.Err(); err != nil {
		return o, err
	}
	if len(o.Cells) == 0 {
		o.Status = whole
		if o.Status == "" {
			o.Status = fmt.Sprintf("not run: no benchmark Benchmark%s in this module", w.Name)
		}
	}
	return o, nil
}

func (o *outcome) cell(config, impl string) *cell {
	k := cellKey{config, impl}
	c, ok := o.Cells[k]
	if !ok {
		c = &cell{Values: make(map[string][]float64)}
		o.Cells[k] = c
		if !slices.Contains(o.Configs, config) {
			o.Configs = append(o.Configs, config)
		}
		if !slices.Contains(o.Impls, impl) {
			o.Impls = append(o.Impls, impl)
		}
	}
	return c
}

// splitName splits a benchmark name without its "Benchmark" prefix, such
// as "TypedHit/size=1KiB/procs=1/impl=otter-2", into the workload
// ("TypedHit"), the configuration ("size=1KiB/procs=1") and the impl
// ("otter"). withProcs says the name may end in the -GOMAXPROCS suffix
// that result lines carry (and skip lines do not).
func splitName(name string, withProcs bool) (base, config, impl string) {
	var parts []string
	if withProcs {
		b, ps := benchfmt.Name(name).Parts()
		base = string(b)
		for _, p := range ps {
			if p[0] == '/' {
				parts = append(parts, string(p[1:]))
			}
		}
	} else {
		all := strings.Split(name, "/")
		base, parts = all[0], all[1:]
	}
	var rest []string
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, "impl="); ok {
			impl = v
			continue
		}
		rest = append(rest, p)
	}
	return base, strings.Join(rest, "/"), impl
}

// stripFileLine drops the "file_test.go:123: " that testing puts before
// a log message.
func stripFileLine(s string) string {
	if i := strings.Index(s, ": "); i > 0 && strings.Contains(s[:i], ".go:") {
		return s[i+2:]
	}
	return s
}

// summarize returns the median of values and its spread as benchstat
// shows it: the half-width of the 95% confidence interval of the median,
// in percent, where there are enough runs for one (6 or more); otherwise
// the largest distance of a run from the median.
func summarize(values []float64) stat {
	s := benchmath.NewSample(values, &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(s, 0.95)
	st := stat{Center: sum.Center, N: len(values)}
	if st.Center == 0 {
		return st
	}
	if !math.IsInf(sum.Lo, 0) && !math.IsInf(sum.Hi, 0) && !math.IsNaN(sum.Lo) && !math.IsNaN(sum.Hi) {
		st.Spread = 100 * max(sum.Hi-sum.Center, sum.Center-sum.Lo) / math.Abs(sum.Center)
		return st
	}
	for _, v := range values {
		st.Spread = max(st.Spread, 100*math.Abs(v-sum.Center)/math.Abs(sum.Center))
	}
	return st
}

// stat returns the summary of unit in the cell of config and impl, and
// whether there is one.
func (o *outcome) stat(config, impl, unit string) (stat, bool) {
	c, ok := o.Cells[cellKey{config, impl}]
	if !ok || len(c.Values[unit]) == 0 {
		return stat{}, false
	}
	return summarize(c.Values[unit]), true
}
