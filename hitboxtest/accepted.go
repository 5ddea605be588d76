package hitboxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// DefaultLargeValue is the size of the large value the suite writes when
// Options.LargeValue is zero: big enough to cross the usual per-value
// limits of in-process stores, small enough that the few copies the check
// holds stay cheap.
const DefaultLargeValue = 4 << 20

// largeValue returns the size of the large value the suite writes.
func (o Options) largeValue(t *testing.T) int {
	t.Helper()
	switch {
	case o.LargeValue < 0:
		t.Fatalf("hitboxtest: Options.LargeValue: %d is negative", o.LargeValue)
	case o.LargeValue == 0:
		return DefaultLargeValue
	}
	return o.LargeValue
}

// acceptedSizes are the value lengths the "Set accepts, Get returns" check
// writes: around the limit, when there is one, and the large value.
func acceptedSizes(limit, large int) []int {
	var out []int
	if limit > 0 {
		out = append(out, limit-1, limit, limit+1)
	}
	return append(out, large)
}

// checkAccepted writes a run of zeros of each size (the value a compressing
// layer shrinks most, and so the one most likely to slip past a limit that
// only the reader applies) through Set and through SetMany, each down both
// paths, and checks that what was accepted comes back whole from Get and
// GetMany, and that what was refused was refused with a *hitbox.SizeError
// naming a limit and reads as a miss. A positive limit is the backend's own
// (Options.MaxValueSize): values up to it must be accepted, longer ones
// refused naming it.
func checkAccepted(t *testing.T, b hitbox.Backend, limit int, opts Options) {
	t.Helper()
	ctx := context.Background()
	for _, n := range acceptedSizes(limit, opts.largeValue(t)) {
		v := make([]byte, n)
		for _, p := range paths(b) {
			for _, op := range []string{"Set", "SetMany"} {
				key := fmt.Sprintf("accepted-%d-%s-%s", n, p.name, op)
				var err error
				if op == "Set" {
					err = p.b.Set(ctx, key, hitbox.Entry{Value: v})
				} else {
					err = hitbox.SetMany(ctx, p.b, []hitbox.Item{{Key: key, Entry: hitbox.Entry{Value: v}}})
				}
				what := fmt.Sprintf("%s (%s) of %d zero bytes", op, p.name, n)
				if err != nil {
					checkRefused(t, b, key, what, n, limit, err)
					continue
				}
				if limit > 0 && n > limit {
					t.Errorf("%s was accepted, over the %d-byte MaxValueSize", what, limit)
				}
				checkReturned(t, b, key, what, v)
			}
		}
	}
}

// checkRefused checks a refused write: refused for its size, naming the
// limit, and nothing readable left under key.
func checkRefused(t *testing.T, b hitbox.Backend, key, what string, n, limit int, err error) {
	t.Helper()
	var se *hitbox.SizeError
	switch {
	case !errors.Is(err, hitbox.ErrTooLarge) || !errors.As(err, &se):
		t.Errorf("%s: %v; want it stored, or refused with an error wrapping a *hitbox.SizeError (ErrTooLarge) that names the limit", what, err)
	case limit > 0 && n <= limit:
		t.Errorf("%s was refused (%v), within the %d-byte MaxValueSize", what, err, limit)
	case limit > 0 && se.Limit != limit:
		t.Errorf("%s: %v names a %d-byte limit, want MaxValueSize, %d", what, err, se.Limit, limit)
	case se.Limit <= 0 || se.Size <= se.Limit:
		t.Errorf("%s: %v; a *hitbox.SizeError must name a positive limit and a size over it", what, err)
	}
	if e, err := b.Get(context.Background(), key); !isMiss(err) {
		t.Errorf("%s was refused, yet Get answers %s, %v; want a miss", what, show(e.Value), err)
	}
}

// checkReturned checks an accepted write comes back whole from Get and from
// GetMany.
func checkReturned(t *testing.T, b hitbox.Backend, key, what string, v []byte) {
	t.Helper()
	ctx := context.Background()
	// Free the store's copy before the next size is written.
	defer func() { _ = b.Delete(ctx, key) }()
	e, err := b.Get(ctx, key)
	switch {
	case err != nil:
		t.Errorf("%s was accepted, but Get fails: %v; a Set must refuse (hitbox.ErrTooLarge) what its Get cannot return", what, err)
		return
	case !bytes.Equal(e.Value, v):
		t.Errorf("%s was accepted, but Get returns %s", what, show(e.Value))
		return
	}
	res, err := hitbox.GetMany(ctx, b, []string{key})
	switch {
	case err != nil || len(res) != 1:
		t.Errorf("%s was accepted, but GetMany answers %d results, %v", what, len(res), err)
	case res[0].Err != nil:
		t.Errorf("%s was accepted, but GetMany fails: %v; a Set must refuse (hitbox.ErrTooLarge) what its Get cannot return", what, res[0].Err)
	case !bytes.Equal(res[0].Entry.Value, v):
		t.Errorf("%s was accepted, but GetMany returns %s", what, show(res[0].Entry.Value))
	}
}
