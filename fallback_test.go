package hitbox_test

import (
	"context"
	"testing"

	"github.com/hitbox-go/hitbox"
)

func TestWithSource(t *testing.T) {
	ctx := context.Background()
	if hitbox.HasSource(ctx) {
		t.Fatal("a plain context says its caller has a source")
	}
	s := hitbox.WithSource(ctx)
	if !hitbox.HasSource(s) {
		t.Fatal("WithSource's context does not say so")
	}
	if hitbox.WithSource(s) != s {
		t.Error("WithSource over a context that already says so made another")
	}
}
