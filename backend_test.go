package hitbox_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// hitbox.Remove answers the same through a Remover and through its
// fallback, a Get then a Delete.
func TestRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	errDown := errors.New("down")
	tests := []struct {
		name        string
		basic       bool // hide the Remover ability
		plant       bool // "k" holds an entry first
		fail        func(*faulty.Backend)
		wantRemoved bool
		wantErr     error
		wantLeft    int // entries left in the store
	}{
		{"A Remover removes a present key and says so.", false, true, nil, true, nil, 0},
		{"A Remover says an absent key was not there.", false, false, nil, false, nil, 0},
		{"The fallback removes a present key and says so.", true, true, nil, true, nil, 0},
		{"The fallback says an absent key was not there.", true, false, nil, false, nil, 0},
		{"The fallback fails, and deletes nothing, when the Get fails.", true, true,
			func(f *faulty.Backend) { f.FailGet(errDown) }, false, errDown, 1},
		{"The fallback fails when the Delete fails.", true, true,
			func(f *faulty.Backend) { f.FailDelete(errDown) }, false, errDown, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mapstore.New(mapstore.Options{})
			if tt.plant {
				if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}); err != nil {
					t.Fatal(err)
				}
			}
			var b hitbox.Backend = s
			if tt.basic {
				b = s.Basic()
			}
			f := faulty.Wrap(b)
			if tt.fail != nil {
				tt.fail(f)
			}
			var under hitbox.Backend = f
			if tt.basic {
				under = basicOf{f} // hide the faulty wrapper's own Remove
			}
			removed, err := hitbox.Remove(ctx, under, "k")
			if removed != tt.wantRemoved || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Remove = %v, %v; want %v, %v", removed, err, tt.wantRemoved, tt.wantErr)
			}
			if s.Len() != tt.wantLeft {
				t.Errorf("the store holds %d entries, want %d", s.Len(), tt.wantLeft)
			}
		})
	}
}

// basicOf shows only the four required methods of a backend.
type basicOf struct{ b hitbox.Backend }

func (x basicOf) Label() string { return x.b.Label() }
func (x basicOf) Get(ctx context.Context, k string) (hitbox.Entry, error) {
	return x.b.Get(ctx, k)
}
func (x basicOf) Set(ctx context.Context, k string, e hitbox.Entry) error { return x.b.Set(ctx, k, e) }
func (x basicOf) Delete(ctx context.Context, k string) error              { return x.b.Delete(ctx, k) }

// hitbox.ClearPrefix refuses an empty prefix and a backend without the
// ability, and otherwise clears the prefix alone.
func TestClearPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		basic    bool
		prefix   string
		wantErr  error
		wantLeft int
	}{
		{"A PrefixClearer clears the keys under the prefix.", false, "a:", nil, 1},
		{"An empty prefix is refused: Clear is for everything.", false, "", hitbox.ErrInvalidKey, 3},
		{"A backend without the ability is refused: there is no safe fallback.", true, "a:", hitbox.ErrNotSupported, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mapstore.New(mapstore.Options{})
			for _, k := range []string{"a:1", "a:2", "b:1"} {
				if err := s.Set(ctx, k, hitbox.Entry{Value: []byte("v")}); err != nil {
					t.Fatal(err)
				}
			}
			var b hitbox.Backend = s
			if tt.basic {
				b = s.Basic()
			}
			err := hitbox.ClearPrefix(ctx, b, tt.prefix)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ClearPrefix = %v, want %v", err, tt.wantErr)
			}
			var he *hitbox.Error
			if err != nil && (!errors.As(err, &he) || he.Op != hitbox.OpClearPrefix) {
				t.Errorf("ClearPrefix error %#v does not name the operation", err)
			}
			if s.Len() != tt.wantLeft {
				t.Errorf("the store holds %d entries, want %d", s.Len(), tt.wantLeft)
			}
		})
	}
}
