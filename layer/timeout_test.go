package layer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

func TestTimeoutCutsSlowCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(context.Context, hitbox.Backend) error
	}{
		{"A slow Get fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error { _, err := b.Get(ctx, "k"); return err }},
		{"A slow Set fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error { return b.Set(ctx, "k", hitbox.Entry{}) }},
		{"A slow Delete fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error { return b.Delete(ctx, "k") }},
		{"A slow GetMany fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error {
			_, err := hitbox.GetMany(ctx, b, []string{"k"})
			return err
		}},
		{"A slow SetMany fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error {
			return hitbox.SetMany(ctx, b, []hitbox.Item{{Key: "k"}})
		}},
		{"A slow DeleteMany fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error {
			return hitbox.DeleteMany(ctx, b, []string{"k"})
		}},
		{"A slow Clear fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error { return hitbox.Clear(ctx, b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := faulty.Wrap(mapstore.New(mapstore.Options{}))
			defer f.Block()() // held until the layer's deadline ends the call
			err := tt.call(context.Background(), layer.Timeout(time.Millisecond)(f))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want DeadlineExceeded", err)
			}
		})
	}
}

// stubborn waits for its context and then reports the cut in its own words,
// as a network client's I/O timeout does.
type stubborn struct{ static }

func (stubborn) Get(ctx context.Context, _ string) (hitbox.Entry, error) {
	<-ctx.Done()
	return hitbox.Entry{}, &hitbox.Error{Op: "get", Backend: "static", Err: hitbox.ErrUnavailable}
}

func TestTimeoutNamesItsDeadline(t *testing.T) {
	t.Parallel()
	_, err := layer.Timeout(time.Millisecond)(stubborn{}).Get(context.Background(), "k")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, hitbox.ErrUnavailable) {
		t.Fatalf("got %v, want DeadlineExceeded and the backend's ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "1ms") {
		t.Fatalf("%q does not name the timeout", err)
	}
}

func TestTimeoutDeadlines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		caller   time.Duration // 0: no deadline
		keepsOwn bool          // the backend sees the caller's context itself
	}{
		{"A call without a deadline gets the layer's.", 0, false},
		{"A caller's sooner deadline is kept as it is.", time.Minute, true},
		{"A caller's later deadline is tightened to the layer's.", 2 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tt.caller > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.caller)
				defer cancel()
			}
			f := faulty.Wrap(mapstore.New(mapstore.Options{}))
			if _, err := layer.Timeout(time.Hour)(f).Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("got %v, want ErrMiss", err)
			}
			seen := f.Seen()
			if got := seen == ctx; got != tt.keepsOwn {
				t.Fatalf("backend saw the caller's own context: %v, want %v", got, tt.keepsOwn)
			}
			if _, ok := seen.Deadline(); !ok {
				t.Fatal("the backend saw no deadline")
			}
		})
	}
}
