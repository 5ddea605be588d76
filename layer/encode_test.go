package layer_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/layer"
)

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name       string
		in         hitbox.Entry
		wantExpire time.Time // when it differs from in.Expire
	}{
		{"A value with both deadlines keeps both.", hitbox.Entry{Value: []byte("v"), Expire: now.Add(time.Hour), Stale: now}, time.Time{}},
		{"A value without deadlines keeps none.", hitbox.Entry{Value: []byte("v")}, time.Time{}},
		{"An empty value stays empty.", hitbox.Entry{Value: []byte{}, Expire: now}, time.Time{}},
		{"A large value comes back whole.", hitbox.Entry{Value: jsonish(64 << 10), Stale: now}, time.Time{}},
		{"A deadline before 1970 keeps its instant.", hitbox.Entry{Value: []byte("v"), Expire: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, time.Time{}},
		{"A deadline past 2262 is clamped to the last instant Unix nanoseconds hold.", hitbox.Entry{Value: []byte("v"), Expire: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, time.Unix(0, 1<<63-1)},
		{"The Unix epoch, which is not the zero time, stays a deadline.", hitbox.Entry{Value: []byte("v"), Expire: time.Unix(0, 0)}, time.Unix(0, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newRawStore()
			p := layer.Encode()(store)
			if err := p.Set(ctx, "k", tt.in); err != nil {
				t.Fatal(err)
			}
			below, _ := store.entry("k")
			if !below.Expire.Equal(tt.in.Expire) || !below.Stale.IsZero() {
				t.Fatalf("below Encode: expire %v stale %v, want expire %v and no stale", below.Expire, below.Stale, tt.in.Expire)
			}
			got, err := p.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			want := tt.in.Expire
			if !tt.wantExpire.IsZero() {
				want = tt.wantExpire
			}
			if !bytes.Equal(got.Value, tt.in.Value) || !got.Expire.Equal(want) || !got.Stale.Equal(tt.in.Stale) {
				t.Fatalf("got %d bytes, expire %v, stale %v; want %d bytes, expire %v, stale %v",
					len(got.Value), got.Expire, got.Stale, len(tt.in.Value), want, tt.in.Stale)
			}
			if got.Expire.IsZero() != want.IsZero() || got.Stale.IsZero() != tt.in.Stale.IsZero() {
				t.Fatal("a deadline appeared or vanished")
			}
		})
	}
}

// envelope returns the bytes Encode stores for e.
func envelope(t testing.TB, e hitbox.Entry) []byte {
	t.Helper()
	store := newRawStore()
	if err := layer.Encode()(store).Set(context.Background(), "k", e); err != nil {
		t.Fatal(err)
	}
	in, _ := store.entry("k")
	return in.Value
}

// mustBeCorrupt plants stored under a key and checks that Encode reports it
// as corrupt and deletes it.
func mustBeCorrupt(t *testing.T, stored []byte) {
	t.Helper()
	store := newRawStore()
	store.plant("k", stored)
	_, err := layer.Encode()(store).Get(context.Background(), "k")
	if !errors.Is(err, hitbox.ErrCorrupt) {
		t.Fatalf("% x: got %v, want ErrCorrupt", stored, err)
	}
	if _, ok := store.entry("k"); ok {
		t.Fatalf("% x: the damaged key was not deleted", stored)
	}
}

func TestEncodeDetectsEveryBitFlip(t *testing.T) {
	t.Parallel()
	env := envelope(t, hitbox.Entry{Value: []byte("a value of some bytes"), Expire: time.Unix(1e9, 0), Stale: time.Unix(9e8, 0)})
	for i := range len(env) * 8 {
		b := bytes.Clone(env)
		b[i/8] ^= 1 << (i % 8)
		mustBeCorrupt(t, b)
	}
}

func TestEncodeDetectsEveryTruncation(t *testing.T) {
	t.Parallel()
	env := envelope(t, hitbox.Entry{Value: []byte("a value of some bytes"), Expire: time.Unix(1e9, 0)})
	for n := range len(env) {
		mustBeCorrupt(t, env[:n])
	}
}

func TestEncodeRefusesForeignBytes(t *testing.T) {
	t.Parallel()
	env := envelope(t, hitbox.Entry{Value: []byte("v")})
	with := func(i int, b byte) []byte { e := bytes.Clone(env); e[i] = b; return e }
	tests := []struct {
		name   string
		stored []byte
	}{
		{"Nothing at all is not an envelope.", nil},
		{"JSON written by another program is not an envelope.", []byte(`{"id":1,"name":"a user","email":"a@example.com"}`)},
		{"An envelope with another magic is refused.", with(0, 'H')},
		{"A later envelope version is refused.", with(2, 2)},
		{"Flags this version does not know are refused.", with(3, 1)},
		{"An envelope with bytes appended is refused.", append(bytes.Clone(env), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mustBeCorrupt(t, tt.stored)
		})
	}
}

func TestEncodeCorruptDeleteFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newRawStore()
	store.plant("k", []byte("foreign"))
	f := faulty.Wrap(store)
	errDown := errors.New("down")
	f.FailDelete(errDown)
	_, err := layer.Encode()(f).Get(ctx, "k")
	if !errors.Is(err, hitbox.ErrCorrupt) || errors.Is(err, errDown) {
		t.Fatalf("got %v, want ErrCorrupt alone", err)
	}
	if f.Calls(hitbox.OpDelete) != 1 {
		t.Fatal("no delete was tried")
	}
}

func TestEncodeBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newRawStore()
	p := layer.Encode()(store)
	stale := time.Unix(2e9, 0)
	if err := hitbox.SetMany(ctx, p, []hitbox.Item{{Key: "a", Entry: hitbox.Entry{Value: []byte("1"), Stale: stale}}, {Key: "b", Entry: hitbox.Entry{Value: []byte("2")}}}); err != nil {
		t.Fatal(err)
	}
	store.plant("bad", []byte("foreign"))
	rs, err := hitbox.GetMany(ctx, p, []string{"a", "b", "bad", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if string(rs[0].Entry.Value) != "1" || !rs[0].Entry.Stale.Equal(stale) || string(rs[1].Entry.Value) != "2" {
		t.Fatal("GetMany did not open the envelopes")
	}
	if !errors.Is(rs[2].Err, hitbox.ErrCorrupt) || !errors.Is(rs[3].Err, hitbox.ErrMiss) {
		t.Fatalf("got %v and %v, want ErrCorrupt and ErrMiss", rs[2].Err, rs[3].Err)
	}
	if _, ok := store.entry("bad"); ok {
		t.Fatal("the damaged key was not deleted")
	}
}

// An appended-to Value must not write into the bytes the store returned.
func TestEncodeValueIsCapped(t *testing.T) {
	t.Parallel()
	env := envelope(t, hitbox.Entry{Value: []byte("abc")})
	backing := append(bytes.Clone(env), "tail"...)
	e, err := layer.Encode()(static{hitbox.Entry{Value: backing[:len(env)]}}).Get(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	_ = append(e.Value, 'X')
	if string(backing[len(env):]) != "tail" {
		t.Fatal("append wrote into the backend's bytes")
	}
}
