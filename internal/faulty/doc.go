// Package faulty wraps a hitbox.Backend so a test can make it misbehave
// while it runs: fail an operation with a chosen error, hold calls until
// released or cancelled, count calls and record the context each one got
// (the package's Example):
//
//	ctx := context.Background()
//	errDown := errors.New("disk on fire")
//	f := faulty.Wrap(mapstore.New(mapstore.Options{}))
//
//	_ = f.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
//	f.FailGet(errDown)
//	_, err := f.Get(ctx, "k")
//	fmt.Println(errors.Is(err, errDown))
//
//	f.Heal()
//	e, err := f.Get(ctx, "k")
//	fmt.Println(string(e.Value), err, f.Calls(hitbox.OpGet))
//
//	// A blocked call returns once its context is done.
//	release := f.Block()
//	defer release()
//	cctx, cancel := context.WithCancel(ctx)
//	done := make(chan error)
//	go func() { _, err := f.Get(cctx, "k"); done <- err }()
//	<-f.Waiting()
//	cancel()
//	fmt.Println(errors.Is(<-done, context.Canceled))
//
// Every method is safe for concurrent use, so a test may change faults
// while calls are in flight.
package faulty
