package layer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/layer"
)

func TestMaxSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		refused bool
	}{
		{"A value under the limit is stored.", 9, false},
		{"A value at the limit is stored.", 10, false},
		{"A value over the limit is refused, and the old value under its key removed.", 11, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newRawStore()
			store.plant("k", []byte("old"))
			err := layer.MaxSize(10)(store).Set(ctx, "k", hitbox.Entry{Value: make([]byte, tt.size)})
			var se *hitbox.SizeError
			if tt.refused != errors.As(err, &se) {
				t.Fatalf("got %v, refused want %v", err, tt.refused)
			}
			e, ok := store.entry("k")
			if tt.refused && (ok || se.Size != 11 || se.Limit != 10) {
				t.Fatalf("got %+v, store holds %q", se, e.Value)
			}
			if !tt.refused && len(e.Value) != tt.size {
				t.Fatalf("store holds %d bytes, want %d", len(e.Value), tt.size)
			}
		})
	}
}

func TestMaxSizeBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newRawStore()
	store.plant("big", []byte("old"))
	err := hitbox.SetMany(ctx, layer.MaxSize(2)(store), []hitbox.Item{
		{Key: "ok", Entry: hitbox.Entry{Value: []byte("1")}},
		{Key: "big", Entry: hitbox.Entry{Value: []byte("123")}},
	})
	if !errors.Is(err, hitbox.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if _, ok := store.entry("ok"); !ok {
		t.Fatal("the item within the limit was not stored")
	}
	if _, ok := store.entry("big"); ok {
		t.Fatal("the refused item's old value is still there")
	}
}
