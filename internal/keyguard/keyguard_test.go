package keyguard

import "testing"

func TestGuard(t *testing.T) {
	t.Parallel()
	var g Guard
	g.Init()
	if (Stamp{}).Valid() {
		t.Fatal("the zero Stamp is valid")
	}

	st := g.Stamp("k")
	if !st.Valid() || st.Busy() {
		t.Fatal("a stamp with no change since is not valid")
	}
	c := g.Begin("k")
	if st.Valid() {
		t.Error("a stamp stays valid while a change runs")
	}
	if busy := g.Stamp("k"); !busy.Busy() || busy.Valid() {
		t.Error("a stamp taken during a change is not busy")
	}
	if c.Overlapped() {
		t.Error("a lone change reports an overlap")
	}
	c.End()
	if st.Valid() {
		t.Error("a stamp taken before a change is valid after it")
	}
	if !g.Stamp("k").Valid() {
		t.Error("a stamp taken after the change ended is not valid")
	}

	// Two changes that overlap: the first sees the second begin, the
	// second saw the first running.
	a := g.Begin("k")
	b := g.Begin("k")
	if !a.Overlapped() || !b.Overlapped() {
		t.Errorf("overlapping changes: a=%v b=%v, want both true", a.Overlapped(), b.Overlapped())
	}
	a.End()
	b.End()
	if i, j := g.Index("k"), g.Index("k"); i != j || i < 0 || i >= Stripes {
		t.Error("Index is not a stable stripe number")
	}
}
