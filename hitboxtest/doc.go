// Package hitboxtest is the conformance suite for hitbox backends and
// layers, in the spirit of testing/slogtest: a store or layer, ours or a
// third party's, runs it from its own tests to show it keeps the contract
// the rest of hitbox relies on.
//
// A store calls TestBackend with a constructor for fresh, empty instances;
// a store that takes a clock uses the suite's fake one, so expiry is
// checked without sleeping. Here memstore does, as a third-party store
// would from its own tests:
//
//	func TestStoreConforms(t *testing.T) {
//		t.Parallel()
//		hitboxtest.TestBackend(t, func(t *testing.T, clock *hitboxtest.Clock) hitbox.Backend {
//			s, err := memstore.New(memstore.Options{Now: clock.Now, MaxValueSize: 64 << 10})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		}, hitboxtest.Options{MaxValueSize: 64 << 10})
//	}
//
// A store on a server that keeps its own clock (Redis, say) sets
// Options.RealTime, and gives each call its own key prefix, since the
// subtests run in parallel.
//
// A layer calls TestLayer; the suite wraps an in-memory store of its own,
// with faults it can inject, in the layer:
//
//	func TestLayerConforms(t *testing.T) {
//		t.Parallel()
//		hitboxtest.TestLayer(t, layer.Compress(codec.Zstd()), hitboxtest.Options{})
//	}
//
// What the suite checks, each as a subtest named for it:
//
// Backends: a miss (absent, deleted, expired key) wraps hitbox.ErrMiss;
// values of 0 B to 64 KiB, binary ones too, and both deadlines round-trip;
// an entry already expired is never returned and replaces what the key
// held; Set replaces and keeps no
// reference to the caller's slice; deleting an absent key is no error; an
// empty key is refused with hitbox.ErrInvalidKey; a done context fails every
// operation with an error wrapping context.Canceled or
// context.DeadlineExceeded (even a store that does no I/O must look); batch
// abilities answer exactly as the hitbox helpers' fallback loops do;
// MaxValueSize is enforced with a *hitbox.SizeError; what Set accepts, Get
// returns (a run of zeros just under, at and over MaxValueSize and one of
// Options.LargeValue bytes, 4 MiB by default, each through Set and SetMany:
// refused with a *hitbox.SizeError, or read back whole); Clear empties;
// ClearPrefix removes exactly the keys under its prefix (one read as a
// pattern, as an unescaped Redis SCAN MATCH would, is caught) and refuses an
// empty one; with Options.Sibling, Clear and ClearPrefix leave the keys of
// another instance in the same storage under another namespace; Remove
// says whether it removed a live entry, natively as through the fallback;
// Close is idempotent and followed by hitbox.ErrClosed; concurrent use is
// safe under -race.
//
// Tags, when the backend is a hitbox.Tagger (and through a layer that
// forwards the ability to the suite's store): GetTagged returns the tags
// written, and GetMany returns them in hitbox.Result.Tags (natively and
// through hitbox.GetMany's loop of GetTagged); InvalidateTags makes every
// entry carrying a purged tag a miss for Get, GetTagged and GetMany, and
// Remove does not count it, while untagged entries and other tags' entries
// stay; an entry written after the purge survives it; a plain Set or SetMany
// over a tagged key drops its tags, as do Delete and Clear; tags over
// hitbox.MaxTags or hitbox.MaxTagLen, and empty ones, are refused with
// hitbox.ErrInvalidTag; tags with odd bytes (spaces, ':', '*', '{', NUL,
// bytes that are not UTF-8) are kept apart, and a tag that is a prefix or a
// glob of another never purges it; with Options.Sibling, a purge in one
// namespace leaves the same tag's entries in the other.
//
// Leases, when the backend is a hitbox.Leaser that hands out leases (and
// through a layer that forwards the ability to the suite's store): a lease
// then SetLeased stores, with its tags; a lease changes no read (an
// absent key is a miss for Get, GetMany and GetTagged, a present one reads
// as before); a Set, SetTagged, SetMany, Delete, Remove, DeleteMany,
// Clear or ClearPrefix of the key, or an InvalidateTags of one of the
// lease's tags (one never used before the lease, too), between Lease and
// SetLeased makes SetLeased fail with hitbox.ErrLeaseLost and store
// nothing, over a miss and over a value; several leases on one key all
// store while no change crosses them, and a change ends them all; a change
// to other keys or another tag leaves most leases alone (a store may end
// the leases of a stripe of keys); the zero Lease stores unconditionally.
//
// Layers: misses, round trips of values and deadlines, expiry, empty keys
// and done contexts, seen through the layer; what Set accepts, Get returns,
// as for backends (a layer with a limit of its own passes it to
// TestLayer as MaxValueSize, and a LargeValue above any limit only its
// reader applies); plus transparency: errors
// from the store stay visible to errors.Is, context values and deadlines
// reach the store, cancelling a call held in the store returns
// context.Canceled promptly, every optional ability is forwarded and a
// batch reaches the store as a batch, Remove reaches it as one Remove,
// and Clear, ClearPrefix and Close reach the store.
package hitboxtest
