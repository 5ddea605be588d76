package consistency

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCheck runs the checker on small hand-made histories of one key.
func TestCheck(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_000_000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	write := func(kind Kind, in, from, to int, v int64, err error) Op {
		return Op{Instance: in, Kind: kind, Keys: []string{"k"}, Start: ms(from), End: ms(to), Versions: map[string]int64{"k": v}, Err: err}
	}
	read := func(kind Kind, in, from, to int, v int64) Op {
		o := Op{Instance: in, Kind: kind, Keys: []string{"k"}, Start: ms(from), End: ms(to)}
		if v >= 0 {
			o.Versions = map[string]int64{"k": v}
		}
		return o
	}
	purge := Op{Instance: 0, Kind: Purge, Tag: "t", Keys: []string{"j", "k"}, Start: ms(100), End: ms(110),
		Versions: map[string]int64{"j": 4, "k": 2}}
	p := Params{Bound: 50 * time.Millisecond, Stall: 800 * time.Millisecond, MaxLoad: 200 * time.Millisecond}
	cases := []struct {
		name       string
		ops        []Op
		faults     []Window
		stale      int
		excused    int
		declared   int
		impossible int
		stalls     int
	}{
		{name: "a read after the write's bound that returns the old version is stale",
			ops:   []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, nil), read(Get, 2, 200, 201, 1)},
			stale: 1},
		{name: "a read that starts within the bound of the write's ack may return the old version",
			ops: []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, nil), read(Get, 2, 150, 151, 1)}},
		{name: "a read concurrent with the write may return either version",
			ops: []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 300, 2, nil), read(GetOrLoad, 2, 150, 400, 1)}},
		{name: "a write that failed replaces nothing",
			ops: []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, errors.New("down")), read(Get, 2, 500, 501, 1)}},
		{name: "an acknowledged Delete replaces the version before it",
			ops:   []Op{write(Set, 0, 0, 10, 1, nil), write(Delete, 1, 100, 110, 2, nil), read(GetOrLoad, 2, 500, 700, 1)},
			stale: 1},
		{name: "a miss never is stale",
			ops: []Op{write(Set, 0, 0, 10, 1, nil), write(Delete, 1, 100, 110, 2, nil), read(Get, 2, 500, 501, -1)}},
		{name: "an acknowledged purge replaces the versions of every key with the tag",
			ops:   []Op{write(Set, 0, 0, 10, 1, nil), purge, read(GetOrLoad, 2, 500, 700, 1)},
			stale: 1},
		{name: "a newer version than acknowledged is fine",
			ops: []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, nil), write(Set, 1, 200, 700, 3, nil), read(Get, 2, 500, 501, 3)}},
		{name: "a version no write had made by the read's end is impossible",
			ops:        []Op{write(Set, 0, 0, 10, 1, nil), read(Get, 2, 500, 501, 2)},
			impossible: 1},
		{name: "a stale read during a fault, within its allowance, is excused",
			ops:     []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, nil), read(Get, 2, 300, 301, 1)},
			faults:  []Window{{Kind: "blackhole", Start: ms(50), End: ms(250), Allowance: 500 * time.Millisecond}},
			excused: 1},
		{name: "a stale read during a fault, beyond its allowance, is stale",
			ops:    []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, nil), read(Get, 2, 900, 901, 1)},
			faults: []Window{{Kind: "blackhole", Start: ms(50), End: ms(250), Allowance: 500 * time.Millisecond}},
			stale:  1},
		{name: "a stale read its cache declared unproven is not a violation",
			ops: []Op{write(Set, 0, 0, 10, 1, nil), write(Set, 1, 100, 110, 2, nil),
				func() Op { o := read(Get, 2, 900, 901, 1); o.Unproven = true; return o }()},
			declared: 1},
		{name: "a call longer than the stall bound is reported, a load's allowance added",
			ops:    []Op{write(Set, 0, 0, 900, 1, nil), read(GetOrLoad, 2, 1000, 1900, 1), read(GetOrLoad, 2, 1000, 2100, 1)},
			stalls: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pp := p
			pp.Settle = time.Second
			r := Check(c.ops, c.faults, pp)
			if len(r.Violations) != c.stale || r.Excused != c.excused || r.Declared != c.declared || len(r.Impossible) != c.impossible || len(r.Stalls) != c.stalls {
				var b strings.Builder
				r.Write(&b, 5)
				t.Fatalf("stale %d, excused %d, declared %d, impossible %d, stalls %d; want %d, %d, %d, %d, %d\n%s",
					len(r.Violations), r.Excused, r.Declared, len(r.Impossible), len(r.Stalls), c.stale, c.excused, c.declared, c.impossible, c.stalls, b.String())
			}
		})
	}
}

// TestReportNamesTheViolation checks that the report of a stale read
// names the read, the write it missed and the fault, and prints the
// history around it.
func TestReportNamesTheViolation(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_000_000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	ops := []Op{
		{ID: 0, Instance: 0, Kind: Load, Keys: []string{"k"}, Start: ms(0), End: ms(140), Versions: map[string]int64{"k": 0}},
		{ID: 1, Instance: 1, Kind: Delete, Keys: []string{"k"}, Start: ms(5), End: ms(10), Versions: map[string]int64{"k": 1}},
		{ID: 2, Instance: 0, Kind: GetOrLoad, Keys: []string{"k"}, Start: ms(0), End: ms(150), Versions: map[string]int64{"k": 0}},
		{ID: 3, Instance: 2, Kind: Get, Keys: []string{"k"}, Start: ms(400), End: ms(401), Versions: map[string]int64{"k": 0}},
	}
	faults := []Window{{Kind: "kill", Target: "server", Start: ms(1), End: ms(300)}}
	r := Check(ops, faults, Params{Bound: 50 * time.Millisecond, Context: 100 * time.Millisecond, Settle: time.Second})
	var b strings.Builder
	r.Write(&b, 3)
	out := b.String()
	for _, want := range []string{
		"1 stale reads",
		"stale reads by fault",
		"kill 1",
		"op 3, instance 2, get k returned v0",
		"v1 was acknowledged by op 1 (delete, instance 1)",
		"=> [",
		"load",
		"(fault kill, load crossed the write)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Without the load that crossed the delete, the stale copy is one the
	// delete's invalidation missed.
	r = Check(ops[1:], faults, r.Params)
	if len(r.Violations) != 1 || r.Violations[0].Cause != CauseMissed {
		t.Errorf("without the load: %+v, want one violation caused by a missed invalidation", r.Violations)
	}
}

// TestReportCutOffAndPauses checks that a stale read on the instance a
// black hole cut off is laid to that, not to a missed invalidation, and
// that the report says how long the process was paused between the
// write's acknowledgement and the read.
func TestReportCutOffAndPauses(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_000_000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	ops := []Op{
		{ID: 0, Instance: 0, Kind: Set, Keys: []string{"k"}, Start: ms(0), End: ms(1), Versions: map[string]int64{"k": 1}},
		{ID: 1, Instance: 1, Kind: Delete, Keys: []string{"k"}, Start: ms(100), End: ms(110), Versions: map[string]int64{"k": 2}},
		{ID: 2, Instance: 2, Kind: Get, Keys: []string{"k"}, Start: ms(900), End: ms(901), Versions: map[string]int64{"k": 1}},
		{ID: 3, Instance: 0, Kind: Get, Keys: []string{"k"}, Start: ms(950), End: ms(951), Versions: map[string]int64{"k": 1}},
	}
	faults := []Window{{Kind: BlackHole.Name, Target: "instance 2", Start: ms(50), End: ms(1000), Allowance: 500 * time.Millisecond}}
	p := Params{Bound: 50 * time.Millisecond, Context: 100 * time.Millisecond, Settle: time.Second}
	r := Check(ops, faults, p)
	if len(r.Violations) != 2 || r.Violations[0].Cause != CauseCutOff || r.Violations[1].Cause != CauseMissed {
		t.Fatalf("violations %+v: want the cut-off instance's read laid to the cut-off, the other's to a missed invalidation", r.Violations)
	}
	r.Pauses = []Pause{{At: ms(200), Late: 300 * time.Millisecond}}
	var b strings.Builder
	r.Write(&b, 3)
	if want := "the process was paused 300ms between the acknowledgement and the read"; !strings.Contains(b.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, b.String())
	}
}
