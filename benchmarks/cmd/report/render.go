package main

import (
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"
	"time"
)

// machine describes where and when the figures were taken.
type machine struct {
	CPU, Cores, Go, OS, Redis, Commit, Date, Load string
	Mode                                          string // "full" or "quick (smoke test: figures mean nothing)"
	Took                                          time.Duration
}

// standardUnits are the columns every timed workload has, in this order.
var standardUnits = []string{"ns/op", "cpu-ns/op", "B/op", "allocs/op"}

// columns returns the units o's table shows: the standard ones (unless
// the workload only reports its own), then the custom ones in order of
// appearance.
func (o *outcome) columns() []string {
	var cols []string
	if !o.W.OnlyCustom {
		cols = append(cols, standardUnits...)
	}
	for _, u := range o.Units {
		if !slices.Contains(standardUnits, u) {
			cols = append(cols, u)
		}
	}
	if o.W.OnlyCustom && !slices.Contains(cols, o.W.Primary) {
		cols = append(cols, o.W.Primary)
	}
	return cols
}

// render writes the markdown report. charts maps a workload name to its
// charts, for those that have some.
func render(w io.Writer, m machine, outs []*outcome, charts map[string][]chartRef) error {
	var b strings.Builder
	b.WriteString("# hitbox benchmarks\n\n")
	b.WriteString("Written by `go run ./cmd/report` in `benchmarks/`; README.md there says what each workload measures and why it is fair. ")
	b.WriteString("Each figure is the median of the runs; ± is benchstat's: the half-width of the 95% confidence interval of the median " +
		"(6 runs or more), or else the largest distance of a run from the median. " +
		"× floor and × hitbox divide a row's primary figure by the floor's and by hitbox's in the same configuration.\n\n")
	b.WriteString("## Machine\n\n| | |\n| --- | --- |\n")
	for _, kv := range [][2]string{
		{"CPU", m.CPU}, {"cores", m.Cores}, {"Go", m.Go}, {"OS", m.OS}, {"redis-server", m.Redis},
		{"hitbox", m.Commit}, {"date", m.Date}, {"load average (start, end)", m.Load},
		{"run", m.Mode}, {"took", m.Took.Round(time.Second).String()},
	} {
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], cellText(kv[1]))
	}
	b.WriteString("\n## Workloads\n\n| workload | measures | runs × benchtime | primary figure | status |\n| --- | --- | --- | --- | --- |\n")
	for _, o := range outs {
		status := "ran"
		if o.Status != "" {
			status = o.Status
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", o.W.Name, anchor(o.W), cellText(o.W.Measures),
			runsText(o), o.W.Primary+map[bool]string{true: " (higher is better)", false: " (lower is better)"}[o.W.Higher], cellText(status))
	}
	for _, o := range outs {
		fmt.Fprintf(&b, "\n## %s: %s\n\n", o.W.Name, o.W.Title)
		fmt.Fprintf(&b, "%s.\n\n", capitalize(o.W.Measures))
		if o.Status != "" {
			fmt.Fprintf(&b, "**%s**\n", o.Status)
			continue
		}
		refs := "Ratios are of " + o.W.Primary
		if o.W.Floor != "" {
			refs += "; the floor is " + o.W.Floor
		}
		if o.W.Hitbox != "" {
			refs += "; hitbox is " + o.W.Hitbox
		}
		b.WriteString(refs + ".\n\n")
		for _, c := range charts[o.W.Name] {
			fmt.Fprintf(&b, "![%s](%s)\n\n", c.Title, c.Path)
		}
		writeTable(&b, o)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable writes one workload's table: a row per configuration and
// impl, a column per unit, then the ratios.
func writeTable(b *strings.Builder, o *outcome) {
	cols := o.columns()
	b.WriteString("| config | impl |")
	for _, u := range cols {
		b.WriteString(" " + u + " |")
	}
	b.WriteString(" × floor | × hitbox |\n|")
	for range len(cols) + 4 {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, cfg := range o.Configs {
		for _, impl := range o.Impls {
			c, ok := o.Cells[cellKey{cfg, impl}]
			if !ok {
				continue
			}
			fmt.Fprintf(b, "| %s | %s |", cellText(cfg), impl)
			switch {
			case c.Fail != "":
				fmt.Fprintf(b, " failed: %s |%s", cellText(c.Fail), strings.Repeat(" |", len(cols)+1))
			case c.Skip != "":
				fmt.Fprintf(b, " %s |%s", cellText(skipText(c.Skip)), strings.Repeat(" |", len(cols)+1))
			default:
				for _, u := range cols {
					st, ok := o.stat(cfg, impl, u)
					if !ok {
						b.WriteString(" – |")
						continue
					}
					fmt.Fprintf(b, " %s |", statText(st, u))
				}
				fmt.Fprintf(b, " %s | %s |", o.ratio(cfg, impl, o.W.Floor), o.ratio(cfg, impl, o.W.Hitbox))
			}
			b.WriteString("\n")
		}
	}
}

// ratio is impl's primary figure over ref's in config, as text.
func (o *outcome) ratio(config, impl, ref string) string {
	if ref == "" {
		return "–"
	}
	a, ok1 := o.stat(config, impl, o.W.Primary)
	r, ok2 := o.stat(config, ref, o.W.Primary)
	if !ok1 || !ok2 || r.Center == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a.Center/r.Center)
}

// skipText turns a skip message into a cell: the contract's "impl cannot
// do X: why" reads "cannot: do X: why".
func skipText(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "impl cannot "); ok {
		return "cannot: " + rest
	}
	return "skipped: " + msg
}

func statText(st stat, unit string) string {
	s := formatValue(st.Center, unit)
	if st.N > 1 && st.Spread > 0 && !math.IsNaN(st.Spread) {
		s += fmt.Sprintf(" ±%.0f%%", st.Spread)
	}
	return s
}

// formatValue writes v in the unit's own scale: durations in ns, µs or
// ms, bytes in B, KiB or MiB, counts with three significant digits.
func formatValue(v float64, unit string) string {
	switch unit {
	case "ns/op", "cpu-ns/op":
		switch a := math.Abs(v); {
		case a >= 1e9:
			return sig(v/1e9) + " s"
		case a >= 1e6:
			return sig(v/1e6) + " ms"
		case a >= 1e3:
			return sig(v/1e3) + " µs"
		}
		return fmt.Sprintf("%.0f ns", v)
	case "B/op", "B/entry":
		switch a := math.Abs(v); {
		case a >= 1<<20:
			return sig(v/(1<<20)) + " MiB"
		case a >= 1<<10:
			return sig(v/(1<<10)) + " KiB"
		}
		return fmt.Sprintf("%.0f B", v)
	case "allocs/op":
		return fmt.Sprintf("%.0f", v)
	case "hit%":
		return fmt.Sprintf("%.2f%%", v)
	}
	return sig(v)
}

// sig formats v with three significant digits, never in exponent form.
func sig(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func runsText(o *outcome) string {
	return fmt.Sprintf("%d × %s", o.W.Count, o.W.Benchtime)
}

// anchor is the GitHub anchor of a workload's section heading.
func anchor(w workload) string {
	h := strings.ToLower(w.Name + ": " + w.Title)
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// cellText keeps a table cell on one line and its pipes literal.
func cellText(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// chartPath is where a workload's chart goes, relative to the report.
func chartPath(w workload) string { return path.Join("charts", w.Name+".png") }
