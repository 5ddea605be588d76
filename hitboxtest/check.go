package hitboxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

// basic hides every optional ability of a backend, so the hitbox helpers
// take their fallback loops; comparing both paths is how the suite checks
// that a native batch behaves like the loop it replaces.
type basic struct{ b hitbox.Backend }

func (x basic) Label() string { return x.b.Label() }

func (x basic) Get(ctx context.Context, key string) (hitbox.Entry, error) { return x.b.Get(ctx, key) }

func (x basic) Set(ctx context.Context, key string, e hitbox.Entry) error {
	return x.b.Set(ctx, key, e)
}

func (x basic) Delete(ctx context.Context, key string) error { return x.b.Delete(ctx, key) }

// start is where fake clocks begin: a fixed instant, with nanoseconds, so
// a store that rounds deadlines is caught.
var start = time.Date(2031, time.March, 4, 5, 6, 7, 891_234_567, time.UTC)

// value returns n deterministic bytes, zeros among them.
func value(n int, seed byte) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(i*31) ^ seed
	}
	return v
}

// sizes are the value lengths every round trip covers.
var sizes = []struct {
	name string
	v    []byte
}{
	{"an empty value", []byte{}},
	{"a one-byte value", []byte{'x'}},
	{"a 1 KiB value", value(1<<10, 1)},
	{"a 64 KiB value", value(64<<10, 2)},
	{"a binary value with zero bytes", []byte{0, 1, 0, 0, 255, 0}},
}

// sameTime compares deadlines exactly, or to the millisecond when tol is
// set; zero must stay zero.
func sameTime(got, want time.Time, tol time.Duration) bool {
	if got.IsZero() || want.IsZero() {
		return got.IsZero() == want.IsZero()
	}
	d := got.Sub(want)
	return d <= tol && d >= -tol
}

// diffEntry describes how got differs from want, or returns "".
func diffEntry(got, want hitbox.Entry, tol time.Duration, dropsStale bool) string {
	var out string
	if !bytes.Equal(got.Value, want.Value) {
		out += fmt.Sprintf(" value %s, want %s;", show(got.Value), show(want.Value))
	}
	if !sameTime(got.Expire, want.Expire, tol) {
		out += fmt.Sprintf(" Expire %v, want %v;", got.Expire, want.Expire)
	}
	if !sameTime(got.Stale, want.Stale, tol) && !(dropsStale && got.Stale.IsZero()) {
		out += fmt.Sprintf(" Stale %v, want %v;", got.Stale, want.Stale)
	}
	return out
}

// show prints a value briefly: long ones by length and head.
func show(v []byte) string {
	if len(v) <= 16 {
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%d bytes %q...", len(v), v[:16])
}

// diffResults describes how two batch answers differ, or returns "".
// Misses must match, as must entries; other errors are compared by
// presence only.
func diffResults(got, want []hitbox.Result, tol time.Duration, dropsStale bool) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d results, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		switch {
		case isMiss(g.Err) != isMiss(w.Err) || (g.Err == nil) != (w.Err == nil):
			return fmt.Sprintf("result %d: err %v, want %v", i, g.Err, w.Err)
		case g.Err == nil:
			if d := diffEntry(g.Entry, w.Entry, tol, dropsStale); d != "" {
				return fmt.Sprintf("result %d:%s", i, d)
			}
		}
	}
	return ""
}

// loopGet answers keys one Get at a time: the reference a batch must match.
func loopGet(ctx context.Context, b hitbox.Backend, keys []string) []hitbox.Result {
	out := make([]hitbox.Result, len(keys))
	for i, k := range keys {
		out[i].Entry, out[i].Err = b.Get(ctx, k)
	}
	return out
}

// path is a way to reach a backend: as it is, so the helpers use its own
// abilities, or through basic, so they loop.
type path struct {
	name string
	b    hitbox.Backend
}

func paths(b hitbox.Backend) []path {
	return []path{{"native", b}, {"fallback", basic{b}}}
}

// everyOp runs each operation once on key with a background context and
// returns its error by name.
func everyOp(b hitbox.Backend, key string, e hitbox.Entry) map[string]error {
	return everyOpCtx(context.Background(), b, key, e)
}

func everyOpCtx(ctx context.Context, b hitbox.Backend, key string, e hitbox.Entry) map[string]error {
	_, getErr := b.Get(ctx, key)
	res, manyErr := hitbox.GetMany(ctx, b, []string{key})
	if manyErr == nil && len(res) == 1 {
		manyErr = res[0].Err // a batch may fail per key instead of as a whole
	}
	return map[string]error{
		"Get":        getErr,
		"Set":        b.Set(ctx, key, e),
		"Delete":     b.Delete(ctx, key),
		"GetMany":    manyErr,
		"SetMany":    hitbox.SetMany(ctx, b, []hitbox.Item{{Key: key, Entry: e}}),
		"DeleteMany": hitbox.DeleteMany(ctx, b, []string{key}),
		"Remove":     removeErr(ctx, b, key),
	}
}

func removeErr(ctx context.Context, b hitbox.Backend, key string) error {
	_, err := hitbox.Remove(ctx, b, key)
	return err
}

func isMiss(err error) bool { return errors.Is(err, hitbox.ErrMiss) }

func mustSet(t *testing.T, b hitbox.Backend, key string, e hitbox.Entry) {
	t.Helper()
	if err := b.Set(context.Background(), key, e); err != nil {
		t.Fatalf("Set %q: %v", key, err)
	}
}

func mustGet(t *testing.T, b hitbox.Backend, key string) hitbox.Entry {
	t.Helper()
	e, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	return e
}

func wantMiss(t *testing.T, b hitbox.Backend, key string) {
	t.Helper()
	e, err := b.Get(context.Background(), key)
	if !isMiss(err) {
		t.Errorf("Get %q = %s, %v; want an error wrapping ErrMiss", key, show(e.Value), err)
	}
}
