// Package mapstore is a small, plainly correct in-memory hitbox.Backend for
// tests across the module: a map behind a mutex, on a clock the test owns.
//
// It keeps every field of an Entry (Value, Expire and Stale), copies values
// in and out, honours Expire on its Now clock, and implements every optional
// ability. Basic returns a view of the same store with none of them, so a
// test can drive the hitbox helpers down their fallback loops:
//
//	clock := hitboxtest.NewClock(start)
//	s := mapstore.New(mapstore.Options{Now: clock.Now})
//	_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: start.Add(time.Minute)})
//	clock.Advance(time.Minute)
//	_, err := s.Get(ctx, "k") // errors.Is(err, hitbox.ErrMiss)
//
//	plain := s.Basic() // Get, Set, Delete, Label only
//	res, err := hitbox.GetMany(ctx, plain, keys) // loops over plain.Get
//
// It is not fast and not meant to be: the real in-process store is
// store/memstore.
package mapstore
