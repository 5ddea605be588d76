package consistency

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hitbox-go/hitbox/internal/pauses"
)

// Params are the bounds a history is checked against.
type Params struct {
	// Bound is the bus's delivery bound: a read that starts within Bound
	// of a write's acknowledgement may still return what the write
	// replaced (another instance's bus has not told it yet).
	Bound time.Duration
	// Stall is the longest a call that does not load may take (the
	// README's stall bound, in its "Outages" section).
	Stall time.Duration
	// MaxLoad is the longest a loader takes; a call that may load
	// (GetOrLoad, GetOrLoadMany) may take Stall plus MaxLoad.
	MaxLoad time.Duration
	// Context is how far around a violation its history reaches.
	Context time.Duration
	// Settle is how long after a fault ends a violation is still laid at
	// its door: recovery (a bus reconnecting, a breaker closing) is part
	// of the fault.
	Settle time.Duration
}

// Window is the time a fault was on.
type Window struct {
	Kind   string // a FaultKind's Name
	Target string // what it hit: "server", "instance 2", a node
	Start  time.Time
	End    time.Time
	// Allowance is the fault kind's: stale reads laid at this window
	// within Bound plus Allowance of the write are excused.
	Allowance time.Duration
}

// Pause is a time the test process itself did not run (see package
// pauses).
type Pause = pauses.Pause

// Violation is a read that returned what an acknowledged write had
// replaced before the read began.
type Violation struct {
	Read  Op     // the read
	Key   string // the key it read stale
	Got   int64  // the version it returned
	Want  int64  // the newest version acknowledged Bound before the read began
	Write Op     // the first acknowledged write that replaced Got
	Lag   time.Duration
	Fault string // the fault it is laid to, or "none"
	Cause string // CauseCrossed or CauseMissed
}

// The causes a violation is laid to.
const (
	// CauseCrossed: the stale version came from a load that read the
	// source before the replacing write began and answered after: its
	// store crossed the write (the stale set that leases prevent).
	CauseCrossed = "load crossed the write"
	// CauseMissed: no such load; the write's invalidation did not reach
	// the copy that answered (a bus gap, a failed delete of a level).
	CauseMissed = "invalidation missed"
	// CauseCutOff: no such load, and the reading instance's own link was
	// black-holed when the read began: it could reach neither the bus nor
	// the shared level, and a copy it could not prove current answered
	// without the read being told so (a told one is Declared, not a
	// violation).
	CauseCutOff = "served from a local copy while cut off"
)

// Impossible is a read that returned a version no write had made by the
// read's end, or a value of another key: a broken harness or a corrupt
// cache rather than a stale one.
type Impossible struct {
	Read Op
	Key  string
	Got  int64
	Max  int64 // the newest version made of Key by the read's end
}

// Report is what Check found.
type Report struct {
	Params Params
	// Measured is the delivery time the harness measured on the healthy
	// bus before the run (the longest of its probes); zero when not
	// measured.
	Measured time.Duration

	Ops, Reads, Writes        int
	FailedReads, FailedWrites int
	Failures                  map[string]int // failed calls by kind and the error's last part
	Violations                []Violation
	Excused                   int // stale reads within a fault's Allowance
	// Declared counts stale reads whose cache said the value was a copy
	// it could not prove current (Op.Unproven: stale-if-error in a bus
	// gap, the tier's stated choice when no shared level answers). They
	// break no promise and are not violations; a read that was stale
	// without saying so is.
	Declared   int
	Impossible []Impossible
	ByFault    map[string]int // violations per fault kind ("none": healthy)
	Stalls     []Op           // calls longer than their stall bound
	Longest    map[Kind]Op    // the longest call of each kind
	Faults     []Window
	Pauses     []Pause // the process's own pauses, for the stalls
	// Load is the load on Redis and on the source per phase (healthy and
	// each fault kind), when the run logged its commands.
	Load []PhaseLoad

	history     []Op // ordered by start, for the report's excerpts
	first, last time.Time
	loads       map[string][]Op // each key's loads
	ByCause     map[string]int  // violations per cause
	byKey       map[string]int  // violations per key
	byReadKind  map[Kind]int    // violations per kind of read
}

// Check checks a history (ops, any order) against p, with the fault
// windows of the run.
func Check(ops []Op, faults []Window, p Params) *Report {
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b Op) int { return a.Start.Compare(b.Start) })
	r := &Report{
		Params: p, Ops: len(ops), Faults: faults, history: ops,
		ByFault: make(map[string]int), Longest: make(map[Kind]Op),
		ByCause: make(map[string]int), byKey: make(map[string]int), byReadKind: make(map[Kind]int),
	}
	if len(ops) > 0 {
		r.first = ops[0].Start
		for _, o := range ops {
			if o.End.After(r.last) {
				r.last = o.End
			}
		}
	}
	// Each key's writes, in version order: writes of a key are
	// serialized, so that is also the order of their ends.
	writes := make(map[string][]keyWrite)
	r.loads = make(map[string][]Op)
	for _, o := range ops {
		if o.Kind == Load {
			for _, k := range o.Keys {
				r.loads[k] = append(r.loads[k], o)
			}
		}
		if !o.Kind.IsWrite() {
			continue
		}
		r.Writes++
		if o.Err != nil {
			r.FailedWrites++
			r.failed(o)
		}
		for k, v := range o.Versions {
			writes[k] = append(writes[k], keyWrite{v: v, op: o})
		}
	}
	for _, ws := range writes {
		sort.Slice(ws, func(i, j int) bool { return ws[i].v < ws[j].v })
	}
	for _, o := range ops {
		if o.Kind == Load {
			continue
		}
		r.time(o)
		if !o.Kind.IsRead() {
			continue
		}
		r.Reads++
		if o.Err != nil {
			r.FailedReads++
			r.failed(o)
			continue
		}
		for _, k := range o.Keys {
			got, hit := o.Versions[k]
			if !hit {
				continue
			}
			r.read(o, k, got, writes[k])
		}
	}
	return r
}

// keyWrite is one write's version of one key.
type keyWrite struct {
	v  int64
	op Op
}

// read checks that o's version got of key is not older than what was
// acknowledged Bound before o began, nor newer than anything written.
func (r *Report) read(o Op, key string, got int64, ws []keyWrite) {
	if got < 0 {
		r.Impossible = append(r.Impossible, Impossible{Read: o, Key: key, Got: got})
		return
	}
	// Newer than written: the newest write that had started by o's end.
	var max int64
	for _, w := range ws {
		if !w.op.Start.After(o.End) && w.v > max {
			max = w.v
		}
	}
	if got > max {
		r.Impossible = append(r.Impossible, Impossible{Read: o, Key: key, Got: got, Max: max})
		return
	}
	// Older than acknowledged: the first acknowledged write above got
	// that ended Bound before o began.
	horizon := o.Start.Add(-r.Params.Bound)
	i := sort.Search(len(ws), func(i int) bool { return ws[i].v > got })
	var replaced *keyWrite
	var want int64
	for j := i; j < len(ws); j++ {
		w := ws[j]
		if w.op.Err != nil || w.op.End.After(horizon) {
			continue
		}
		if replaced == nil {
			replaced = &ws[j]
		}
		want = w.v
	}
	if replaced == nil {
		return
	}
	if o.Unproven {
		r.Declared++
		return
	}
	v := Violation{
		Read: o, Key: key, Got: got, Want: want, Write: replaced.op,
		Lag: o.Start.Sub(replaced.op.End),
	}
	f, ok := r.faultAt(o.Start)
	if !ok {
		f, ok = r.faultAt(replaced.op.End)
	}
	v.Fault = "none"
	if ok {
		v.Fault = f.Kind
		if v.Lag <= r.Params.Bound+f.Allowance {
			r.Excused++
			return
		}
	}
	v.Cause = CauseMissed
	if r.cutOff(o) {
		v.Cause = CauseCutOff
	}
	for _, l := range r.loads[key] {
		if l.Versions[key] == got && l.Start.Before(replaced.op.Start) && l.End.After(replaced.op.Start) {
			v.Cause = CauseCrossed
			break
		}
	}
	r.Violations = append(r.Violations, v)
	r.ByFault[v.Fault]++
	r.ByCause[v.Cause]++
	r.byKey[key]++
	r.byReadKind[o.Kind]++
}

// cutOff reports whether o began while a black hole held its instance's
// link (not counting the settle time after it).
func (r *Report) cutOff(o Op) bool {
	target := fmt.Sprintf("instance %d", o.Instance)
	for _, f := range r.Faults {
		if f.Kind == BlackHole.Name && f.Target == target && !o.Start.Before(f.Start) && !o.Start.After(f.End) {
			return true
		}
	}
	return false
}

// faultAt returns the latest fault on at t, or within Settle after it
// ended, if any.
func (r *Report) faultAt(t time.Time) (Window, bool) {
	var w Window
	found := false
	for _, f := range r.Faults {
		if !t.Before(f.Start) && !t.After(f.End.Add(r.Params.Settle)) && (!found || f.Start.After(w.Start)) {
			w, found = f, true
		}
	}
	return w, found
}

// time notes o's duration: the longest of its kind, and a stall when it
// passes its bound.
func (r *Report) time(o Op) {
	if l, ok := r.Longest[o.Kind]; !ok || o.Duration() > l.Duration() {
		r.Longest[o.Kind] = o
	}
	if o.Duration() > r.stallBound(o.Kind) {
		r.Stalls = append(r.Stalls, o)
	}
}

// stallBound is the longest a call of kind may take.
func (r *Report) stallBound(k Kind) time.Duration {
	if k == GetOrLoad || k == GetOrLoadMany {
		return r.Params.Stall + r.Params.MaxLoad
	}
	return r.Params.Stall
}

// Excerpt returns the operations on key (loads included) that overlap
// [from-Context, to+Context], in start order.
func (r *Report) Excerpt(key string, from, to time.Time) []Op {
	from, to = from.Add(-r.Params.Context), to.Add(r.Params.Context)
	var out []Op
	for _, o := range r.history {
		if o.End.Before(from) || o.Start.After(to) || !slices.Contains(o.Keys, key) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// failed counts the failed call o by its kind and the root of its error
// (the text after the last ": "), so the report tells a refused write
// from a read the cache could not answer.
func (r *Report) failed(o Op) {
	if r.Failures == nil {
		r.Failures = make(map[string]int)
	}
	msg := o.Err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	r.Failures[o.Kind.String()+": "+msg]++
}
