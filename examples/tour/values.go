package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
)

// User is the typed value the tour caches.
type User struct {
	ID    int64    `json:"id" cbor:"1,keyasint"`
	Name  string   `json:"name" cbor:"2,keyasint"`
	Email string   `json:"email" cbor:"3,keyasint"`
	Roles []string `json:"roles" cbor:"4,keyasint"`
}

// typedValues stores and reads Users through the card's pipeline and
// prints each operation's outcome and cost.
func typedValues(ctx context.Context, w io.Writer, st *store) error {
	var tally tally
	pipeline := hitbox.Chain(
		counting(&tally),
		layer.Compress(codec.Zstd()),
		layer.Encode(),
	).Then(st.backend)
	users := hitbox.New[User](pipeline, hitbox.Options{
		Format:   codec.CBOR(),
		TTL:      time.Minute,
		StaleFor: 10 * time.Second,
	})
	defer users.Close()
	fmt.Fprintf(w, "pipeline: %s\n\n", st.pipeline("Count", "Compress(zstd)", "Encode"))

	key := func(id int64) string { return hitbox.NewKey("users").Version(1).WithInt("id", id).String() }
	ada := User{ID: 1, Name: "Ada Lovelace", Email: "ada@example.com", Roles: []string{"admin"}}

	fmt.Fprintln(w, "typed values (Cache[User], CBOR, TTL 1m, stale window 10s)")
	start := time.Now()
	if err := users.Set(ctx, key(1), ada); err != nil {
		return err
	}
	line(w, "set", key(1), ada.Name, time.Since(start))

	start = time.Now()
	u, state, err := users.Lookup(ctx, key(1))
	if err != nil {
		return err
	}
	line(w, "get", key(1), fmt.Sprintf("hit (%s): %s", state, u.Name), time.Since(start))

	start = time.Now()
	_, err = users.Get(ctx, key(404))
	if !errors.Is(err, hitbox.ErrMiss) {
		return fmt.Errorf("want a miss for an absent key, got %v", err)
	}
	line(w, "get", key(404), "miss", time.Since(start))

	// Eight callers ask for the same absent user at once: one load runs,
	// all eight get its answer.
	var loads atomic.Int32
	load := func(ctx context.Context) (User, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond) // a slow database
		return User{ID: 2, Name: "Grace Hopper", Email: "grace@example.com"}, nil
	}
	const callers = 8
	var wg sync.WaitGroup
	answers := make(chan string, callers)
	start = time.Now()
	for range callers {
		wg.Go(func() {
			u, err := users.GetOrLoad(ctx, key(2), load)
			if err != nil {
				answers <- "error: " + err.Error()
				return
			}
			answers <- u.Name
		})
	}
	wg.Wait()
	close(answers)
	same := 0
	for a := range answers {
		if a == "Grace Hopper" {
			same++
		}
	}
	line(w, "load", key(2), fmt.Sprintf("%d callers, %d load, %d same answers", callers, loads.Load(), same), time.Since(start))

	start = time.Now()
	if u, err = users.Get(ctx, key(2)); err != nil {
		return err
	}
	line(w, "get", key(2), "hit: "+u.Name, time.Since(start))

	start = time.Now()
	if err := users.Delete(ctx, key(1)); err != nil {
		return err
	}
	line(w, "delete", key(1), "gone", time.Since(start))
	if _, err := users.Get(ctx, key(1)); !errors.Is(err, hitbox.ErrMiss) {
		return fmt.Errorf("want a miss after delete, got %v", err)
	}

	fmt.Fprintf(w, "counted by the pipeline's outer layer: %d hits, %d misses, %d sets, %d deletes\n\n",
		tally.hits.Load(), tally.misses.Load(), tally.sets.Load(), tally.deletes.Load())
	return nil
}

func line(w io.Writer, op, key, what string, d time.Duration) {
	fmt.Fprintf(w, "  %-6s %-28s %-44s %9s\n", op, key, what, d.Round(100*time.Nanosecond))
}

// tally counts what a pipeline answered.
type tally struct{ hits, misses, sets, deletes atomic.Int64 }

// counting is a layer written for the tour: a dozen lines are a whole
// layer. It counts and forwards; it owns nothing else.
func counting(t *tally) hitbox.Layer {
	return func(next hitbox.Backend) hitbox.Backend { return &counted{next, t} }
}

type counted struct {
	hitbox.Backend
	t *tally
}

func (c *counted) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, err := c.Backend.Get(ctx, key)
	switch {
	case err == nil:
		c.t.hits.Add(1)
	case errors.Is(err, hitbox.ErrMiss):
		c.t.misses.Add(1)
	}
	return e, err
}

func (c *counted) Set(ctx context.Context, key string, e hitbox.Entry) error {
	c.t.sets.Add(1)
	return c.Backend.Set(ctx, key, e)
}

func (c *counted) Delete(ctx context.Context, key string) error {
	c.t.deletes.Add(1)
	return c.Backend.Delete(ctx, key)
}
