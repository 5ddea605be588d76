package hitbox_test

import (
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/internal/panics"
)

// TestOptionsInvalid checks the constructor rule for Cache: an option that
// cannot work makes New panic with exactly the message Validate returns.
func TestOptionsInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts hitbox.Options
		want string
	}{
		{"A negative TTL cannot work: zero already means forever.", hitbox.Options{TTL: -time.Second},
			"hitbox: Options.TTL: negative (-1s)"},
		{"A negative StaleFor cannot work.", hitbox.Options{StaleFor: -time.Minute},
			"hitbox: Options.StaleFor: negative (-1m0s)"},
		{"A negative LoadTimeout cannot work.", hitbox.Options{LoadTimeout: -1},
			"hitbox: Options.LoadTimeout: negative (-1ns)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.opts.Validate(); err == nil || err.Error() != tc.want {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
			got := panics.Message(func() { hitbox.New[string](mapstore.New(mapstore.Options{}), tc.opts) })
			if got != tc.want {
				t.Errorf("New panicked with %q, want %q", got, tc.want)
			}
		})
	}
	if err := (hitbox.Options{}).Validate(); err != nil {
		t.Errorf("the zero Options: Validate = %v, want nil", err)
	}
	if got, want := panics.Message(func() { hitbox.New[string](nil, hitbox.Options{}) }), "hitbox: New: nil Backend"; got != want {
		t.Errorf("New(nil) panicked with %q, want %q", got, want)
	}
}
