package faulty_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func Example() {
	ctx := context.Background()
	errDown := errors.New("disk on fire")
	f := faulty.Wrap(mapstore.New(mapstore.Options{}))

	_ = f.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
	f.FailGet(errDown)
	_, err := f.Get(ctx, "k")
	fmt.Println(errors.Is(err, errDown))

	f.Heal()
	e, err := f.Get(ctx, "k")
	fmt.Println(string(e.Value), err, f.Calls(hitbox.OpGet))

	// A blocked call returns once its context is done.
	release := f.Block()
	defer release()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { _, err := f.Get(cctx, "k"); done <- err }()
	<-f.Waiting()
	cancel()
	fmt.Println(errors.Is(<-done, context.Canceled))
	// Output:
	// true
	// v <nil> 2
	// true
}
