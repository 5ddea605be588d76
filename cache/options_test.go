package cache_test

import (
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/internal/panics"
)

// TestOptionsInvalid checks the constructor rule for Cache: an option that
// cannot work makes New panic with exactly the message Validate returns.
func TestOptionsInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts cache.Options
		want string
	}{
		{"A negative TTL cannot work: zero already means forever.", cache.Options{TTL: -time.Second},
			"hitbox/cache: Options.TTL: negative (-1s)"},
		{"A negative StaleFor cannot work.", cache.Options{StaleFor: -time.Minute},
			"hitbox/cache: Options.StaleFor: negative (-1m0s)"},
		{"A negative LoadTimeout cannot work.", cache.Options{LoadTimeout: -1},
			"hitbox/cache: Options.LoadTimeout: negative (-1ns)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.opts.Validate(); err == nil || err.Error() != tc.want {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
			got := panics.Message(func() { cache.New[string](mapstore.New(mapstore.Options{}), tc.opts) })
			if got != tc.want {
				t.Errorf("New panicked with %q, want %q", got, tc.want)
			}
		})
	}
	if err := (cache.Options{}).Validate(); err != nil {
		t.Errorf("the zero Options: Validate = %v, want nil", err)
	}
	if got, want := panics.Message(func() { cache.New[string](nil, cache.Options{}) }), "hitbox/cache: New: nil Backend"; got != want {
		t.Errorf("New(nil) panicked with %q, want %q", got, want)
	}
}
