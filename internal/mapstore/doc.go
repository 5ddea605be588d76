// Package mapstore is a small, plainly correct in-memory hitbox.Backend for
// tests across the module: a map behind a mutex, on a clock the test owns.
//
// It keeps every field of an Entry (Value, Expire and Stale), copies values
// in and out, honours Expire on its Now clock, and implements every optional
// ability, tags included (each tag has a random version that InvalidateTags
// replaces; an entry is live while the versions it was written with are
// current, the scheme the real stores use) and leases (a key's outstanding
// leases share a nonce that every change to the key forgets; a lease keeps
// its tags' versions, so a purge of one ends it too). Basic returns a view of the same
// store with none of them, so a test can drive the hitbox helpers down their
// fallback loops (the package's Example):
//
//	ctx := context.Background()
//	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
//	s := mapstore.New(mapstore.Options{Now: func() time.Time { return now }})
//
//	_ = s.Set(ctx, "greeting", hitbox.Entry{Value: []byte("hello"), Expire: now.Add(time.Minute)})
//	e, _ := s.Get(ctx, "greeting")
//	fmt.Println(string(e.Value), s.Len())
//
//	now = now.Add(time.Minute) // the fake clock reaches Expire
//	_, err := s.Get(ctx, "greeting")
//	fmt.Println(errors.Is(err, hitbox.ErrMiss))
//
//	// Basic hides the batch abilities, so GetMany loops over Get.
//	_, isBatch := hitbox.Backend(s.Basic()).(hitbox.BatchGetter)
//	fmt.Println(isBatch)
//
// It is not fast and not meant to be: the real in-process store is
// store/memstore.
package mapstore
