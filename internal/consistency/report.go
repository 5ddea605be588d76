package consistency

import (
	"fmt"
	"github.com/hitbox-go/hitbox/internal/pauses"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// OK reports whether the history kept the property: no stale and no
// impossible read.
func (r *Report) OK() bool { return len(r.Violations) == 0 && len(r.Impossible) == 0 }

// Summary is the report's first line.
func (r *Report) Summary() string {
	return fmt.Sprintf("%d ops over %v: %d reads (%d failed), %d writes (%d failed); %d stale reads (and %d within a fault's allowance, %d declared unproven), %d impossible, %d calls over the stall bound",
		r.Ops, r.last.Sub(r.first).Round(time.Millisecond), r.Reads, r.FailedReads, r.Writes, r.FailedWrites,
		len(r.Violations), r.Excused, r.Declared, len(r.Impossible), len(r.Stalls))
}

// Write prints the report: the summary, the bounds, the violations per
// fault kind, per key and per kind of read, the first examples
// violations (and impossible reads) with the history of their key around
// them, the stalls and the longest call of each kind.
func (r *Report) Write(w io.Writer, examples int) {
	p := r.Params
	fmt.Fprintln(w, r.Summary())
	fmt.Fprintf(w, "bounds: bus delivery %v (measured on the healthy bus: %v), stall %v (+%v for a call that loads)\n",
		p.Bound, r.Measured.Round(time.Microsecond), p.Stall, p.MaxLoad)
	if len(r.Faults) > 0 {
		var b strings.Builder
		for i, f := range r.Faults {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s(%s) at %v for %v", f.Kind, f.Target, r.at(f.Start), f.End.Sub(f.Start).Round(time.Millisecond))
		}
		fmt.Fprintln(w, "faults:", b.String())
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w, "failed calls:", counts(r.Failures))
	}
	if len(r.Violations) > 0 {
		fmt.Fprintln(w, "stale reads by fault (\"none\": no fault within the settle time):", counts(r.ByFault))
		fmt.Fprintln(w, "stale reads by cause:", counts(r.ByCause))
		fmt.Fprintln(w, "stale reads by key:", counts(r.byKey))
		byKind := make(map[string]int)
		for k, n := range r.byReadKind {
			byKind[k.String()] = n
		}
		fmt.Fprintln(w, "stale reads by call:", counts(byKind))
		var lags []time.Duration
		for _, v := range r.Violations {
			lags = append(lags, v.Lag)
		}
		slices.Sort(lags)
		fmt.Fprintf(w, "stale by (read start - replacing write's ack): median %v, max %v\n",
			lags[len(lags)/2].Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond))
	}
	for i, v := range r.pick(examples) {
		fmt.Fprintf(w, "\nstale read %d/%d (fault %s, %s): op %d, instance %d, %s %s returned v%d at %v, but v%d was acknowledged by op %d (%s, instance %d) %v before the read began (newest acknowledged: v%d)\n",
			i+1, len(r.Violations), v.Fault, v.Cause, v.Read.ID, v.Read.Instance, v.Read.Kind, v.Key, v.Got, r.at(v.Read.Start),
			v.Write.Versions[v.Key], v.Write.ID, v.Write.Kind, v.Write.Instance, v.Lag.Round(time.Microsecond), v.Want)
		if p := r.pausedIn(v.Write.End, v.Read.Start); p > 0 {
			// A pause holds the bus's delivery as it holds any call: a
			// lag that exceeds the bound by less than it is the machine's.
			fmt.Fprintf(w, "  the process was paused %v between the acknowledgement and the read\n", p.Round(time.Millisecond))
		}
		r.writeExcerpt(w, v.Key, v.Write.Start, v.Read.End, v.Read.ID)
	}
	for i, im := range r.Impossible {
		if i >= examples {
			break
		}
		fmt.Fprintf(w, "\nimpossible read: op %d, instance %d, %s %s returned v%d, newest written by then v%d\n",
			im.Read.ID, im.Read.Instance, im.Read.Kind, im.Key, im.Got, im.Max)
		r.writeExcerpt(w, im.Key, im.Read.Start, im.Read.End, im.Read.ID)
	}
	if len(r.Pauses) > 0 {
		longest := slices.MaxFunc(r.Pauses, func(a, b Pause) int { return int(a.Late - b.Late) })
		fmt.Fprintf(w, "\nthe process itself paused %d times over %v (a sleeping goroutine woke late), longest %v at %v\n",
			len(r.Pauses), pauses.Min, longest.Late.Round(time.Millisecond), r.at(longest.At))
	}
	if len(r.Stalls) > 0 {
		fmt.Fprintf(w, "\ncalls over the stall bound (%d):\n", len(r.Stalls))
		for i, o := range r.Stalls {
			if i >= 3*examples {
				fmt.Fprintf(w, "  ... %d more\n", len(r.Stalls)-i)
				break
			}
			fmt.Fprintf(w, "  %s", r.line(o))
			if p := r.pausedDuring(o); p > 0 {
				fmt.Fprintf(w, "; the process was paused %v of it", p.Round(time.Millisecond))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	r.writeLoad(w)
	fmt.Fprintln(w, "\nlongest call of each kind:")
	for _, k := range slices.Sorted(maps.Keys(r.Longest)) {
		o := r.Longest[k]
		fmt.Fprintf(w, "  %-14s %v (op %d, instance %d, at %v, during %s)\n",
			k, o.Duration().Round(time.Microsecond), o.ID, o.Instance, r.at(o.Start), r.faultName(o.Start))
	}
}

// pausedDuring is how long the process was paused while o ran.
func (r *Report) pausedDuring(o Op) time.Duration { return r.pausedIn(o.Start, o.End) }

// pausedIn is how long the process was paused between start and end.
func (r *Report) pausedIn(start, end time.Time) time.Duration {
	var d time.Duration
	for _, p := range r.Pauses {
		from, to := p.At.Add(pauses.Tick), p.At.Add(pauses.Tick+p.Late)
		from, to = later(from, start), earlier(to, end)
		if to.After(from) {
			d += to.Sub(from)
		}
	}
	return d
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// faultName names the fault on (or settling) at t, "none" without one.
func (r *Report) faultName(t time.Time) string {
	if f, ok := r.faultAt(t); ok {
		return f.Kind
	}
	return "none"
}

// pick returns up to n violations, spread over the fault kinds and the
// causes: the first of each pair, then the second of each, and so on.
func (r *Report) pick(n int) []Violation {
	byFault := make(map[string][]Violation) // by fault and cause
	for _, v := range r.Violations {
		byFault[v.Fault+"/"+v.Cause] = append(byFault[v.Fault+"/"+v.Cause], v)
	}
	var out []Violation
	for round := 0; len(out) < n && len(out) < len(r.Violations); round++ {
		for _, f := range slices.Sorted(maps.Keys(byFault)) {
			if round < len(byFault[f]) && len(out) < n {
				out = append(out, byFault[f][round])
			}
		}
	}
	return out
}

// writeExcerpt prints the history of key around [from, to], marking op mark.
func (r *Report) writeExcerpt(w io.Writer, key string, from, to time.Time, mark int) {
	ex := r.Excerpt(key, from, to)
	// Keep at most before+after operations, around the marked one.
	const before, after = 30, 12
	at := slices.IndexFunc(ex, func(o Op) bool { return o.ID == mark })
	if at < 0 {
		at = len(ex) - 1
	}
	lo, hi := max(0, at-before), min(len(ex), at+1+after)
	if lo > 0 {
		fmt.Fprintf(w, "  ... %d earlier ops on %s\n", lo, key)
	}
	ex = ex[lo:hi]
	for _, o := range ex {
		m := "  "
		if o.ID == mark {
			m = "=>"
		}
		fmt.Fprintf(w, "  %s %s\n", m, r.line(o))
	}
}

// line renders one operation: times since the run's start, instance,
// kind, keys and versions, result.
func (r *Report) line(o Op) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%9v .. %9v] op %-6d i%d %-13s", r.at(o.Start), r.at(o.End), o.ID, o.Instance, o.Kind)
	if o.Tag != "" {
		fmt.Fprintf(&b, " tag %s", o.Tag)
	}
	for _, k := range o.Keys {
		if v, ok := o.Versions[k]; ok {
			fmt.Fprintf(&b, " %s=v%d", k, v)
		} else if o.Kind.IsRead() && o.Err == nil {
			fmt.Fprintf(&b, " %s=miss", k)
		} else {
			fmt.Fprintf(&b, " %s", k)
		}
	}
	if o.Err != nil {
		msg := o.Err.Error()
		if len(msg) > 100 {
			msg = msg[:100] + "..."
		}
		fmt.Fprintf(&b, " err=%s", msg)
	}
	fmt.Fprintf(&b, " (%v)", o.Duration().Round(time.Microsecond))
	return b.String()
}

// at is t as time since the run's first operation.
func (r *Report) at(t time.Time) time.Duration {
	return t.Sub(r.first).Round(time.Millisecond)
}

// counts renders a count per name, largest first.
func counts(m map[string]int) string {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", n, m[n])
	}
	return b.String()
}
