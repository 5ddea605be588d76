package main

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// load parses a canned `go test -bench -v` output from testdata as the
// named workload of the report's table.
func load(t *testing.T, file, name string) *outcome {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	w := lookupWorkload(t, name)
	o, err := parse(b, w)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func lookupWorkload(t *testing.T, name string) workload {
	t.Helper()
	for _, w := range workloads {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no workload %s", name)
	return workload{}
}

// TestParse reads a run of two counts with a skip and a failure: cells
// keep the order the sub-benchmarks started in, each run's value is kept
// per unit, and skip and failure messages land in their cells without the
// file:line testing puts before them.
func TestParse(t *testing.T) {
	o := load(t, "typed.txt", "TypedRedis")
	if o.Status != "" {
		t.Fatalf("status %q; want it to have run", o.Status)
	}
	if want := []string{"size=1KiB/batch=1/procs=1", "size=1KiB/batch=16/procs=1"}; !slices.Equal(o.Configs, want) {
		t.Errorf("configs %q; want %q", o.Configs, want)
	}
	if want := []string{"hitbox-redis", "go-redis-raw", "go-redis-cache-redis"}; !slices.Equal(o.Impls, want) {
		t.Errorf("impls %q; want %q", o.Impls, want)
	}
	if want := []string{"ns/op", "cpu-ns/op", "B/op", "allocs/op"}; !slices.Equal(o.Units, want) {
		t.Errorf("units %q; want %q", o.Units, want)
	}
	c := o.Cells[cellKey{"size=1KiB/batch=1/procs=1", "hitbox-redis"}]
	if got := c.Values["ns/op"]; !slices.Equal(got, []float64{60000, 66000}) {
		t.Errorf("hitbox-redis ns/op %v; want both runs, in ns as printed", got)
	}
	skip := o.Cells[cellKey{"size=1KiB/batch=16/procs=1", "go-redis-cache-redis"}].Skip
	if want := "impl cannot read a batch: its API reads one key per call, one round trip each"; skip != want {
		t.Errorf("skip %q; want %q", skip, want)
	}
	if fail := o.Cells[cellKey{"size=1KiB/batch=16/procs=1", "go-redis-raw"}].Fail; fail != "3 reads of present keys missed" {
		t.Errorf("failure %q", fail)
	}
}

// TestParseStatus covers the workloads that give no figures: one skipped
// whole (no redis-server) and one with no benchmark of its name.
func TestParseStatus(t *testing.T) {
	if o := load(t, "skipped.txt", "TypedWrite"); !strings.HasPrefix(o.Status, "skipped: redis-server not installed") {
		t.Errorf("skipped workload: status %q", o.Status)
	}
	if o := load(t, "typed.txt", "Memory"); !strings.HasPrefix(o.Status, "not run: no benchmark BenchmarkMemory") {
		t.Errorf("absent workload: status %q", o.Status)
	}
}

func TestSplitName(t *testing.T) {
	for _, tc := range []struct {
		name               string
		withProcs          bool
		base, config, impl string
		why                string
	}{
		{"TypedHit/size=1KiB/procs=1/impl=otter-2", true, "TypedHit", "size=1KiB/procs=1", "otter", "a result line: the -GOMAXPROCS suffix goes"},
		{"TypedHit/size=1KiB/procs=1/impl=hitbox-tier-l2", false, "TypedHit", "size=1KiB/procs=1", "hitbox-tier-l2", "a skip line has no suffix: a dash in the impl stays"},
		{"HitRatio/cache=1%/dist=zipf0.8/impl=ristretto", true, "HitRatio", "cache=1%/dist=zipf0.8", "ristretto", "GOMAXPROCS=1 prints no suffix"},
		{"TypedHit", false, "TypedHit", "", "", "the top level has no impl"},
	} {
		base, config, impl := splitName(tc.name, tc.withProcs)
		if base != tc.base || config != tc.config || impl != tc.impl {
			t.Errorf("%s: splitName(%q) = %q, %q, %q; want %q, %q, %q", tc.why, tc.name, base, config, impl, tc.base, tc.config, tc.impl)
		}
	}
}

// TestSummarize checks the median and the spread: with fewer than six
// runs there is no confidence interval, and the spread is the farthest
// run's distance from the median.
func TestSummarize(t *testing.T) {
	st := summarize([]float64{90, 100, 120})
	if st.Center != 100 || math.Abs(st.Spread-20) > 1e-9 || st.N != 3 {
		t.Errorf("summarize(90, 100, 120) = %+v; want median 100, spread 20%%", st)
	}
	st = summarize([]float64{100, 101, 99, 100, 102, 98, 100})
	if st.Center != 100 || st.Spread <= 0 || st.Spread > 2 {
		t.Errorf("seven close runs: %+v; want median 100 and a confidence interval within 2%%", st)
	}
	if st := summarize([]float64{5}); st.Center != 5 || st.Spread != 0 {
		t.Errorf("one run: %+v", st)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{45, "ns/op", "45 ns"},
		{1234, "cpu-ns/op", "1.23 µs"},
		{60000, "ns/op", "60.0 µs"},
		{2.5e6, "ns/op", "2.50 ms"},
		{2600, "B/op", "2.54 KiB"},
		{3 << 20, "B/entry", "3.00 MiB"},
		{15, "allocs/op", "15"},
		{87.654, "hit%", "87.65%"},
		{3.5, "loads", "3.50"},
		{0.25, "loads", "0.25"},
		{200, "ms/stampede", "200"},
	} {
		if got := formatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatValue(%v, %s) = %q; want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

// TestRender checks the report's rows: medians with spreads, skips as
// "cannot: why", failures, custom units as columns, ratios to the floor
// and to hitbox, and a status line for what did not run.
func TestRender(t *testing.T) {
	typed := load(t, "typed.txt", "TypedRedis")
	stampede := load(t, "stampede.txt", "Stampede")
	absent := load(t, "typed.txt", "HTTP")
	var b bytes.Buffer
	m := machine{CPU: "Example CPU", Cores: "2", Go: "go1.26", OS: "linux/amd64", Redis: "7.0.15", Mode: "full"}
	if err := render(&b, m, []*outcome{typed, stampede, absent}, map[string][]chartRef{"TypedRedis": {{Title: "Typed read from Redis", Path: "charts/TypedRedis.png"}}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| CPU | Example CPU |",
		"| redis-server | 7.0.15 |",
		// median of 60 and 66 µs is 63; both runs are 4.8% from it.
		"| size=1KiB/batch=1/procs=1 | hitbox-redis | 63.0 µs ±5% | 31.5 µs ±5% | 2.54 KiB | 15 | 1.40 | 1.00 |",
		"| size=1KiB/batch=1/procs=1 | go-redis-raw | 45.0 µs ±11% | 22.5 µs ±11% | 2.54 KiB | 15 | 1.00 | 0.71 |",
		"| size=1KiB/batch=16/procs=1 | go-redis-cache-redis | cannot: read a batch: its API reads one key per call, one round trip each |",
		"| size=1KiB/batch=16/procs=1 | go-redis-raw | failed: 3 reads of present keys missed |",
		"![Typed read from Redis](charts/TypedRedis.png)",
		"| config | impl | ns/op | cpu-ns/op | B/op | allocs/op | loads | ms/stampede | × floor | × hitbox |",
		"| callers=1000/processes=4 | hitbox-lock | 200 ms | – | 72 B | 9 | 1.00 | 200 | – | 50.00 |",
		"| callers=1000/processes=1 | hitbox-lock | skipped: impl is the cross-process lock",
		"**not run: no benchmark BenchmarkHTTP in this module**",
		"| [HTTP](#http-cached-1-kib-get-over-http) |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestChart draws a chart with a linear and one with a logarithmic value
// axis (the stampede's figures span 2 to 200 ms) and checks each is a PNG
// of a sensible size; TestRender's canned outcomes are reused.
func TestChart(t *testing.T) {
	for _, o := range []*outcome{load(t, "typed.txt", "TypedRedis"), load(t, "stampede.txt", "Stampede")} {
		file := filepath.Join(t.TempDir(), o.W.Name+".png")
		ok, err := chart(o, file)
		if err != nil || !ok {
			t.Fatalf("%s: chart: %v, drawn %v", o.W.Name, err, ok)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		_ = f.Close()
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", o.W.Name, err)
		}
		if r := img.Bounds(); r.Dx() < 300 || r.Dy() < 300 {
			t.Errorf("%s: a %dx%d image", o.W.Name, r.Dx(), r.Dy())
		}
	}
	if ok, err := chart(load(t, "skipped.txt", "TypedWrite"), filepath.Join(t.TempDir(), "x.png")); ok || err != nil {
		t.Errorf("a workload with no figures: drawn %v, err %v; want nothing drawn", ok, err)
	}
}

// TestHitRatioCharts checks the hit-ratio charts: the bar chart leaves out
// an impl with no figure (a skipped peer) and gives each impl drawn its
// own colour, and a size chart is drawn for a stream measured at three
// sizes (zipf0.8), none for one measured at two (gli), with a line for
// each impl measured at all three (not lru, measured at one).
func TestHitRatioCharts(t *testing.T) {
	o := load(t, "hitratio.txt", "HitRatio")
	if !slices.Contains(o.Impls, "absent") {
		t.Fatalf("impls %v: the canned output's skipped impl is not among them, the test checks nothing", o.Impls)
	}
	impls, _ := drawn(o, o.W.Primary)
	if want := []string{"hitbox-memstore", "otter", "lru"}; !slices.Equal(impls, want) {
		t.Errorf("bars for %v, want %v", impls, want)
	}
	seen := make(map[color.Color]int)
	for i := range 40 {
		c := seriesColor(i)
		if j, ok := seen[c]; ok {
			t.Fatalf("series %d and %d share the colour %v", j, i, c)
		}
		seen[c] = i
	}
	dir := t.TempDir()
	if ok, err := chart(o, filepath.Join(dir, "HitRatio.png")); !ok || err != nil {
		t.Fatalf("chart: %v, drawn %v", err, ok)
	}
	refs, err := sizeCharts(o, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Path != "charts/HitRatioBySize-zipf0.8.png" {
		t.Fatalf("size charts %v, want one, of zipf0.8", refs)
	}
	if got := sizeLines(o, "zipf0.8"); !slices.Equal(got, []string{"hitbox-memstore", "otter"}) {
		t.Errorf("lines for %v, want memstore's and otter's", got)
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(refs[0].Path)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
}
