// Package faulty wraps a hitbox.Backend so a test can make it misbehave
// while it runs: fail an operation with a chosen error, hold calls until
// released or cancelled, count calls and record the context each one got.
//
//	f := faulty.Wrap(mapstore.New(mapstore.Options{}))
//	pipeline := layer.Compress(c)(f)
//
//	f.FailGet(errBoom)
//	_, err := pipeline.Get(ctx, "k") // errors.Is(err, errBoom) must hold
//	f.Heal()
//
//	release := f.Block()
//	go pipeline.Get(ctx, "k") // waits inside f until release or ctx is done
//	<-f.Waiting()             // the call has reached f
//	release()
//
//	f.Calls(hitbox.OpGetMany) // how many GetMany reached f
//	f.Seen()                  // the context of the last call, to check values and deadlines
//
// Every method is safe for concurrent use, so a test may change faults
// while calls are in flight.
package faulty
