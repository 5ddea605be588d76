package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// coherence starts a second instance — its own in-process L1 over the same
// Redis — and shows that when the first instance writes a key, the second
// drops its L1 copy and reads the new value.
func coherence(ctx context.Context, w io.Writer, st *store) error {
	if st.other == nil {
		return nil
	}
	l1, err := memstore.New(memstore.Options{MaxBytes: 16 << 20, Label: "memory"})
	if err != nil {
		return err
	}
	b := st.other(l1)
	defer b.Close()
	a := st.backend
	key := hitbox.NewKey("greeting").String()

	// Redis reports every write, A's own too, a moment later. The tour
	// listens as well, to let the echo of its first write pass before B
	// reads, so B's L1 copy is not dropped under the reader's eyes.
	echo := make(chan struct{}, 8)
	stop := st.bus.Subscribe(func(inv hitbox.Invalidation) {
		for _, k := range inv.Keys {
			if k == key {
				echo <- struct{}{}
			}
		}
	})
	defer stop()

	fmt.Fprintln(w, "coherence: instance B, its own L1 over the same Redis")
	exp := time.Now().Add(time.Minute)
	if err := a.Set(ctx, key, hitbox.Entry{Value: []byte("hello"), Expire: exp}); err != nil {
		return err
	}
	select {
	case <-echo:
	case <-time.After(2 * time.Second):
		return errors.New("no invalidation from Redis 2s after a write")
	}
	if err := readFrom(ctx, w, "B", b, key); err != nil { // from Redis, copied into B's L1
		return err
	}
	if err := readFrom(ctx, w, "B", b, key); err != nil { // from B's L1
		return err
	}
	start := time.Now()
	if err := a.Set(ctx, key, hitbox.Entry{Value: []byte("bonjour"), Expire: exp}); err != nil {
		return err
	}
	fmt.Fprintf(w, "  A sets %s to %q\n", key, "bonjour")
	// Redis tells B's bus; B's L1 drops its copy. Wait for that, bounded.
	for {
		if _, err := l1.Get(ctx, key); errors.Is(err, hitbox.ErrMiss) {
			break
		}
		if time.Since(start) > 2*time.Second {
			return errors.New("instance B's L1 still holds the old value 2s after A's write")
		}
		time.Sleep(50 * time.Microsecond)
	}
	fmt.Fprintf(w, "  B's L1 dropped its copy %s after A's write\n", time.Since(start).Round(time.Microsecond))
	if err := readFrom(ctx, w, "B", b, key); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return a.Delete(ctx, key)
}

func readFrom(ctx context.Context, w io.Writer, who string, b hitbox.Backend, key string) error {
	tctx, src := hitbox.TrackAnswer(ctx)
	e, err := b.Get(tctx, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s reads %q from %s\n", who, e.Value, src.Path())
	return nil
}
