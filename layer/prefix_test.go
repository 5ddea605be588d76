package layer_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

func TestPrefix(t *testing.T) {
	t.Parallel()
	v := func(s string) hitbox.Entry { return hitbox.Entry{Value: []byte(s)} }
	tests := []struct {
		name string
		run  func(ctx context.Context, users, orders hitbox.Backend) error
		want map[string]string // the store's keys and values afterwards
	}{
		{"Set stores under the prefix.",
			func(ctx context.Context, users, _ hitbox.Backend) error { return users.Set(ctx, "1", v("a")) },
			map[string]string{"users:1": "a"}},
		{"Two namespaces keep the same key apart.",
			func(ctx context.Context, users, orders hitbox.Backend) error {
				return errors.Join(users.Set(ctx, "1", v("a")), orders.Set(ctx, "1", v("b")))
			},
			map[string]string{"users:1": "a", "orders:1": "b"}},
		{"Delete removes only its namespace's key.",
			func(ctx context.Context, users, orders hitbox.Backend) error {
				return errors.Join(users.Set(ctx, "1", v("a")), orders.Set(ctx, "1", v("b")), users.Delete(ctx, "1"))
			},
			map[string]string{"orders:1": "b"}},
		{"SetMany stores every item under the prefix.",
			func(ctx context.Context, users, _ hitbox.Backend) error {
				return hitbox.SetMany(ctx, users, []hitbox.Item{{Key: "1", Entry: v("a")}, {Key: "2", Entry: v("b")}})
			},
			map[string]string{"users:1": "a", "users:2": "b"}},
		{"DeleteMany removes only its namespace's keys.",
			func(ctx context.Context, users, orders hitbox.Backend) error {
				return errors.Join(users.Set(ctx, "1", v("a")), orders.Set(ctx, "1", v("b")),
					hitbox.DeleteMany(ctx, users, []string{"1", "2"}))
			},
			map[string]string{"orders:1": "b"}},
		{"An empty key stays refused rather than becoming the prefix alone.",
			func(ctx context.Context, users, _ hitbox.Backend) error {
				if err := users.Set(ctx, "", v("a")); !errors.Is(err, hitbox.ErrInvalidKey) {
					return errors.New("empty key accepted")
				}
				return nil
			},
			map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newRawStore()
			if err := tt.run(ctx, layer.Prefix("users:")(store), layer.Prefix("orders:")(store)); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, e := range store.m {
				got[k] = string(e.Value)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("store holds %v, want %v", got, tt.want)
			}
			for k, w := range tt.want {
				if got[k] != w {
					t.Fatalf("store holds %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestPrefixReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	users, orders := layer.Prefix("users:")(store), layer.Prefix("orders:")(store)
	if err := users.Set(ctx, "1", hitbox.Entry{Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if e, err := users.Get(ctx, "1"); err != nil || string(e.Value) != "a" {
		t.Fatalf("got %q, %v", e.Value, err)
	}
	if _, err := orders.Get(ctx, "1"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("another namespace got %v, want ErrMiss", err)
	}
	rs, err := hitbox.GetMany(ctx, users, []string{"1", "2"})
	if err != nil || string(rs[0].Entry.Value) != "a" || !errors.Is(rs[1].Err, hitbox.ErrMiss) {
		t.Fatalf("GetMany got %+v, %v", rs, err)
	}
}

// A namespace is cleared through the store's ClearPrefix, so the
// neighbours stay; ClearPrefix and Remove map their argument into the
// namespace.
func TestPrefixClearAndRemove(t *testing.T) {
	t.Parallel()
	v := hitbox.Entry{Value: []byte("v")}
	tests := []struct {
		name string
		run  func(ctx context.Context, users hitbox.Backend) error
		want []string // the store's keys afterwards
	}{
		{"Clear removes every key of its namespace and no other.",
			func(ctx context.Context, users hitbox.Backend) error { return hitbox.Clear(ctx, users) },
			[]string{"orders:1", "orders:users:1", "users"}},
		{"ClearPrefix(q) removes the namespace's keys that start with q.",
			func(ctx context.Context, users hitbox.Backend) error { return hitbox.ClearPrefix(ctx, users, "a") },
			[]string{"users:1", "orders:1", "orders:users:1", "users"}},
		{"ClearPrefix with an empty prefix is refused rather than clearing the namespace.",
			func(ctx context.Context, users hitbox.Backend) error {
				if err := hitbox.ClearPrefix(ctx, users, ""); !errors.Is(err, hitbox.ErrInvalidKey) {
					return fmt.Errorf("ClearPrefix(\"\") = %v, want ErrInvalidKey", err)
				}
				return nil
			},
			[]string{"users:1", "users:a1", "users:a2", "orders:1", "orders:users:1", "users"}},
		{"Remove removes the namespace's key and says so.",
			func(ctx context.Context, users hitbox.Backend) error {
				if removed, err := hitbox.Remove(ctx, users, "1"); err != nil || !removed {
					return fmt.Errorf("Remove = %v, %v; want true", removed, err)
				}
				if removed, err := hitbox.Remove(ctx, users, "1"); err != nil || removed {
					return fmt.Errorf("second Remove = %v, %v; want false", removed, err)
				}
				return nil
			},
			[]string{"users:a1", "users:a2", "orders:1", "orders:users:1", "users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := mapstore.New(mapstore.Options{})
			for _, k := range []string{"users:1", "users:a1", "users:a2", "orders:1", "orders:users:1", "users"} {
				if err := store.Set(ctx, k, v); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.run(ctx, layer.Prefix("users:")(store)); err != nil {
				t.Fatal(err)
			}
			if n := store.Len(); n != len(tt.want) {
				t.Errorf("the store holds %d keys, want %d", n, len(tt.want))
			}
			for _, k := range tt.want {
				if _, err := store.Get(ctx, k); err != nil {
					t.Errorf("Get %q: %v", k, err)
				}
			}
		})
	}
}

// clearOnly is a store that can clear everything but not one prefix.
type clearOnly struct {
	*mapstore.Basic
	s *mapstore.Store
}

func (c clearOnly) Clear(ctx context.Context) error { return c.s.Clear(ctx) }

// Clearing one namespace through a store that can only clear everything
// would wipe its neighbours, so Prefix refuses.
func TestPrefixClearRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	if err := store.Set(ctx, "orders:1", hitbox.Entry{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	err := hitbox.Clear(ctx, layer.Prefix("users:")(clearOnly{store.Basic(), store}))
	if !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("got %v, want ErrNotSupported", err)
	}
	if store.Len() != 1 {
		t.Fatalf("the store holds %d keys after a refused Clear, want 1", store.Len())
	}
}
