package tier

import (
	"fmt"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/panics"
)

// TestOptionsInvalid checks the constructor rule: an option that cannot
// work makes NewWith panic with exactly the message Validate returns.
func TestOptionsInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   Options
		levels int
		want   string
	}{
		{"a tier needs a level.", Options{}, 0,
			"hitbox/tier: levels: a tier needs at least one level"},
		{"A read policy past the last one is unknown.", Options{Read: ReadParallel + 1}, 2,
			"hitbox/tier: Options.Read: unknown read policy 3"},
		{"A losers mode past the last one is unknown.", Options{Losers: 7}, 2,
			"hitbox/tier: Options.Losers: unknown losers mode 7"},
		{"A write policy past the last one is unknown.", Options{Write: 9}, 2,
			"hitbox/tier: Options.Write: unknown write policy 9"},
		{"A refill mode past the last one is unknown.", Options{Refill: 3}, 2,
			"hitbox/tier: Options.Refill: unknown refill mode 3"},
		{"Required may only name levels that exist.", Options{Write: WriteParallel, Required: []int{0, 2}}, 2,
			"hitbox/tier: Options.Required[1]: level 2 of 2 does not exist"},
		{"Required may not name a negative level.", Options{Required: []int{-1}}, 2,
			"hitbox/tier: Options.Required[0]: level -1 of 2 does not exist"},
		{"MaxTTL has at most one entry per level.", Options{MaxTTL: make([]time.Duration, 3)}, 2,
			"hitbox/tier: Options.MaxTTL: 3 entries for 2 levels"},
		{"A MaxTTL entry may not be negative.", Options{MaxTTL: []time.Duration{time.Minute, -time.Second}}, 2,
			"hitbox/tier: Options.MaxTTL[1]: negative (-1s)"},
		{"Local may not exceed the levels.", Options{Local: 3}, 2,
			"hitbox/tier: Options.Local: 3 local levels of 2"},
		{"Local may not be negative.", Options{Local: -1}, 2,
			"hitbox/tier: Options.Local: -1 local levels of 2"},
		{"A breaker cool-down may not be negative.", Options{Breaker: Breaker{CoolDown: -time.Second}}, 1,
			"hitbox/tier: Options.Breaker.CoolDown: negative (-1s)"},
		{"Workers may not be negative.", Options{Workers: -1}, 1,
			"hitbox/tier: Options.Workers: negative (-1)"},
		{"Queue may not be negative.", Options{Queue: -2}, 1,
			"hitbox/tier: Options.Queue: negative (-2)"},
		{"TaskTimeout may not be negative.", Options{TaskTimeout: -time.Millisecond}, 1,
			"hitbox/tier: Options.TaskTimeout: negative (-1ms)"},
		{"OwnWrites may not be negative.", Options{OwnWrites: -time.Second}, 1,
			"hitbox/tier: Options.OwnWrites: negative (-1s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.opts.Validate(tc.levels)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
			levels := make([]hitbox.Backend, tc.levels)
			for i := range levels {
				levels[i] = store(newClock(), fmt.Sprint("l", i))
			}
			if got := panics.Message(func() { NewWith(tc.opts, levels...) }); got != tc.want {
				t.Errorf("NewWith panicked with %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOptionsValid checks that zero values and the documented special
// values (a negative breaker threshold, a negative drain) are valid.
func TestOptionsValid(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{},
		{Breaker: Breaker{Failures: -1}, DrainTimeout: -1},
		{Read: ReadRace, Losers: LosersFinish, Write: WriteParallel, Required: []int{1}, Refill: RefillOff,
			MaxTTL: []time.Duration{time.Minute, 0}, Local: 2},
	} {
		if err := o.Validate(2); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", o, err)
		}
	}
}

// TestNilLevel checks that a nil level is reported with its index.
func TestNilLevel(t *testing.T) {
	t.Parallel()
	want := "hitbox/tier: levels[1]: nil Backend"
	if got := panics.Message(func() { New(store(newClock(), "l1"), nil) }); got != want {
		t.Errorf("New panicked with %q, want %q", got, want)
	}
}
