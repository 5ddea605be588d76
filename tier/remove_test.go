package tier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
)

// Remove reports whether any level held the key, removes it from all, and
// tells other instances as Delete does.
func TestRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	exp := t0.Add(time.Hour)
	tests := []struct {
		name        string
		inL1, inL2  bool
		wantRemoved bool
	}{
		{"A key in both levels is removed.", true, true, true},
		{"A key only in L2 (L1 not yet refilled) is removed.", false, true, true},
		{"A key only in L1 (L2 lost it) is removed.", true, false, true},
		{"An absent key is not.", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := hitbox.NewLocalBus()
			a, b, l1a, l1b, l2 := instances(t, c, bus, Options{})
			if tt.inL2 {
				if err := l2.Set(ctx, "k", entry("v", exp)); err != nil {
					t.Fatal(err)
				}
				_ = read(t, b, "k") // B holds a copy in its L1
			}
			if tt.inL1 {
				if err := l1a.Set(ctx, "k", entry("v", exp)); err != nil {
					t.Fatal(err)
				}
			}
			removed, err := a.Remove(ctx, "k")
			if err != nil || removed != tt.wantRemoved {
				t.Fatalf("Remove = %v, %v; want %v, nil", removed, err, tt.wantRemoved)
			}
			if l1a.Len() != 0 || l2.Len() != 0 {
				t.Errorf("after Remove A's L1 holds %d keys and L2 %d, want none", l1a.Len(), l2.Len())
			}
			if l1b.Len() != 0 {
				t.Error("B's L1 kept its copy after A's Remove")
			}
		})
	}
}

// A level that fails fails Remove, with removed false as the contract
// says, but the other levels are still asked.
func TestRemoveJoinsErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	errTwo := errors.New("two")
	s1 := store(c, "l1")
	l1, l2 := faulty.Wrap(s1), faulty.Wrap(store(c, "l2"))
	if err := s1.Set(ctx, "k", entry("v", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	l2.FailDelete(errTwo)
	tr := NewWith(Options{Now: c.Now}, l1, l2)
	closeT(t, tr)
	removed, err := tr.Remove(ctx, "k")
	if !errors.Is(err, errTwo) || removed {
		t.Errorf("Remove = %v, %v; want false and L2's error", removed, err)
	}
	if l1.Calls(hitbox.OpRemove) != 1 || s1.Len() != 0 {
		t.Error("Remove stopped at the failing lower level")
	}
	if removed, err := tr.Remove(ctx, ""); removed || !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Errorf("Remove of an empty key = %v, %v; want ErrInvalidKey", removed, err)
	}
}

// ClearPrefix clears the prefix from every level, leaves other keys, and
// has other instances drop their L1s (the bus carries no prefix).
func TestClearPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	exp := t0.Add(time.Hour)
	a, b, l1a, l1b, l2 := instances(t, c, hitbox.NewLocalBus(), Options{})
	for _, k := range []string{"t1:a", "t1:b", "t2:a"} {
		if err := a.Set(ctx, k, entry(k, exp)); err != nil {
			t.Fatal(err)
		}
		_ = read(t, b, k)
	}
	if err := a.ClearPrefix(ctx, "t1:"); err != nil {
		t.Fatal(err)
	}
	if l1a.Len() != 1 || l2.Len() != 1 || read(t, a, "t2:a") != "t2:a" {
		t.Errorf("after ClearPrefix A's L1 holds %d keys and L2 %d, want t2:a alone in each", l1a.Len(), l2.Len())
	}
	if l1b.Len() != 0 {
		t.Errorf("B's L1 holds %d keys after A's ClearPrefix, want none", l1b.Len())
	}
	if read(t, b, "t1:a") != "" || read(t, b, "t2:a") != "t2:a" {
		t.Error("B reads the cleared namespace, or lost the other one")
	}
	if err := a.ClearPrefix(ctx, ""); !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Errorf("ClearPrefix of an empty prefix = %v, want ErrInvalidKey", err)
	}
}

// A level that cannot clear by prefix fails ClearPrefix with
// ErrNotSupported; the levels that can are cleared anyway.
func TestClearPrefixUnsupportedLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := store(c, "l1"), store(c, "l2")
	tr := NewWith(Options{Now: c.Now}, l1, l2.Basic())
	closeT(t, tr)
	if err := tr.Set(ctx, "p:1", entry("v", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := tr.ClearPrefix(ctx, "p:"); !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("ClearPrefix = %v, want ErrNotSupported", err)
	}
	if l1.Len() != 0 || l2.Len() != 1 {
		t.Errorf("L1 holds %d keys and L2 %d, want 0 and 1", l1.Len(), l2.Len())
	}
}
