package tier

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

func TestReportStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := store(c, "memory"), store(c, "redis")
	tr := NewWith(Options{Now: c.Now}, l1, l2)
	closeT(t, tr)
	_ = l2.Set(ctx, "k", entry("v", t0.Add(time.Hour)))
	_, _ = tr.Get(ctx, "k") // L1 miss, L2 hit, refill
	_, _ = tr.Get(ctx, "k") // L1 hit

	type fig struct {
		name, level string
		value       int64
	}
	collect := func() []fig {
		var out []fig
		tr.ReportStats(func(st hitbox.Stat) {
			out = append(out, fig{st.Name, st.Level, st.Value})
		})
		return out
	}
	first := collect()
	want := map[fig]bool{
		{"tier.hits", "l1", 1}: true, {"tier.hits", "l2", 1}: true,
		{"tier.misses", "l1", 1}: true, {"tier.refills", "", 1}: true,
		{"tier.breaker.open", "l2", 0}: true,
	}
	for _, f := range first {
		delete(want, f)
	}
	if len(want) != 0 {
		t.Errorf("figures %v lack %v", first, want)
	}
	// The same names in the same order every time.
	_, _ = tr.Get(ctx, "k")
	second := collect()
	name := func(f fig) string { return f.name + "/" + f.level }
	if !slices.Equal(mapSlice(first, name), mapSlice(second, name)) {
		t.Error("figures changed order between calls")
	}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
