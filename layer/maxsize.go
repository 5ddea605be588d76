package layer

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// MaxSize returns a layer that refuses to store a value over n bytes: Set
// fails with a *hitbox.SizeError (errors.Is hitbox.ErrTooLarge) and deletes
// the key below, so a reader never sees the value the refused write was
// meant to replace. SetMany writes the items within the limit and reports
// the others. MaxSize panics when n is not positive.
func MaxSize(n int) hitbox.Layer {
	if n <= 0 {
		panic(fmt.Sprintf("hitbox/layer: MaxSize: n is %d, want a positive size", n))
	}
	return func(next hitbox.Backend) hitbox.Backend { return &limited{forward{next}, n} }
}

type limited struct {
	forward
	n int
}

func (l *limited) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	return l.next.Get(ctx, key)
}

func (l *limited) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if len(e.Value) <= l.n {
		return l.next.Set(ctx, key, e)
	}
	return l.refuse(ctx, key, len(e.Value))
}

// SetTagged stores e with tags below under the size rule of Set.
func (l *limited) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if len(e.Value) <= l.n {
		return hitbox.SetTagged(ctx, l.next, key, e, tags...)
	}
	return l.refuse(ctx, key, len(e.Value))
}

// SetLeased stores e with tags below, if the lease ls holds there, under
// the size rule of Set.
func (l *limited) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, ls hitbox.Lease) error {
	if len(e.Value) <= l.n {
		return hitbox.SetLeased(ctx, l.next, key, e, tags, ls)
	}
	return l.refuse(ctx, key, len(e.Value))
}

func (l *limited) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	return hitbox.GetTagged(ctx, l.next, key)
}

// refuse deletes key below after a value of size bytes was refused, and
// reports the refusal.
func (l *limited) refuse(ctx context.Context, key string, size int) error {
	refused := &hitbox.SizeError{Size: size, Limit: l.n}
	if err := l.next.Delete(ctx, key); err != nil {
		return errors.Join(refused, err)
	}
	return refused
}

func (l *limited) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	return hitbox.GetMany(ctx, l.next, keys)
}

func (l *limited) SetMany(ctx context.Context, items []hitbox.Item) error {
	var refused []error
	var over []string
	for _, it := range items {
		if len(it.Entry.Value) > l.n {
			refused = append(refused, &hitbox.SizeError{Size: len(it.Entry.Value), Limit: l.n})
			over = append(over, it.Key)
		}
	}
	if len(over) == 0 {
		return hitbox.SetMany(ctx, l.next, items)
	}
	fit := make([]hitbox.Item, 0, len(items)-len(over))
	for _, it := range items {
		if len(it.Entry.Value) <= l.n {
			fit = append(fit, it)
		}
	}
	if len(fit) > 0 {
		refused = append(refused, hitbox.SetMany(ctx, l.next, fit))
	}
	refused = append(refused, hitbox.DeleteMany(ctx, l.next, over))
	return errors.Join(refused...)
}
