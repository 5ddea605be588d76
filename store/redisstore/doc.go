// Package redisstore is a hitbox store on Redis, for a cache shared by many
// processes: a standalone server, a Sentinel-managed one or a Redis Cluster,
// through any go-redis v9 UniversalClient. The package's Example:
//
//	rdb := redis.NewClient(redisstore.ClientOptions("localhost:6379")) // short timeouts, no retries
//	defer rdb.Close()                                                  // the store does not own the client
//
//	store, err := redisstore.New(rdb, redisstore.Options{Prefix: "myapp:cache:"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	pipeline := hitbox.Chain(layer.Encode()).Then(store)
//
// ClientOptions holds the go-redis settings a cache should start from: an
// outage costs a call a short, bounded stall rather than seconds of
// timeouts, retries and dial attempts.
//
// # What it keeps
//
// Each entry is one Redis string under Prefix+key: a 26-byte header holding
// Expire and Stale to the nanosecond, then the value. Get rebuilds both
// deadlines from the header, never from a PTTL guess. Set gives the key a
// Redis lifetime (SET ... PX, in milliseconds) of the time left until
// Expire, rounded up, so Redis never drops an entry before its deadline,
// and Get hides an entry in the sub-millisecond after it. An entry already
// past its Expire is not written (Set removes what the key held), and one
// with no Expire lives until deleted or evicted, or for Options.MaxTTL.
//
// # Batches and clusters
//
// GetMany, SetMany and DeleteMany take one round trip per server: MGET,
// pipelined SETs and UNLINK on a single server; on a cluster the keys are
// grouped by hash slot and the commands pipelined, which go-redis sends to
// every node at once, so no command ever spans slots. Clear walks the keys
// under Prefix with SCAN on every master and removes them with UNLINK; it
// never flushes a database, and refuses to run without a Prefix.
// ClearPrefix does the same for the keys under Prefix followed by its
// argument (one namespace: a tenant, a version, a layer.Prefix's keys).
// Remove is Delete that says whether the key was there, from UNLINK's count.
// See Options.Prefix for hash tags.
//
// # Locks
//
// Store is a hitbox.Locker, so cache.Cache's GetOrLoad (with
// Options.LockTTL) loads a cold key about once however many processes
// share the store. TryLock is SET NX PX of a random token under
// Prefix+key+"\x00lock", a key of its own: the entry under key is never
// touched, and Clear removes locks with the rest. Extend and Unlock act
// only while the key still holds the holder's token (a one-key script, so
// it runs on a cluster too): a holder whose lock expired and was taken by
// another can neither extend nor release the other's. A holder that dies
// blocks the others until the lock's lifetime ends. With a TrackingBus,
// taking and releasing a lock is reported like any write under the
// prefix; the lock's key is one nobody caches, so it costs a message and
// nothing else.
//
// # Tags
//
// Store is a hitbox.Tagger on a single server, a Cluster and a Ring (Redis
// 7.0 or later): SetTagged writes an entry with tags, and InvalidateTags
// drops every entry carrying one of them, whatever their number:
//
//	err = store.SetTagged(ctx, "orders:42", hitbox.Entry{Value: []byte("3 orders")}, []string{"user:42", "orders"})
//	err = store.InvalidateTags(ctx, "user:42")
//
// Each tag has a version, 8 random bytes under
// Prefix+"\x00tags\x00"+tag (the store refuses keys that start with
// "\x00tags\x00", so no entry can take one; Clear removes versions with
// the rest, ClearPrefix never). A tagged entry is stored in format 2: its
// tags and their versions at write time sit between the header and the
// value (2 bytes, the tag and 8 bytes per tag). A reader that knows only
// format 1 finds it damaged and drops it, which is right: it could not
// check the tags.
//
//   - SetTagged: one pipelined round trip reads each tag's version (SET NX
//     GET of a random one, per tag, on the tag's own key, so each goes to
//     its own slot on a cluster), then the entry's SET: two round trips.
//   - Get, GetTagged, GetMany and Remove of a tagged entry compare the
//     stored versions with the current ones; one gone or different makes
//     the entry a miss, and it is removed. An untagged read stays one GET;
//     a tagged one takes a second round trip (MGET of its versions: per
//     slot on a cluster, per key on a ring). GetMany checks every tagged
//     entry of the batch in that one second round trip, and returns each
//     hit's tags in hitbox.Result.Tags. With
//     Options.ReadScript, a single server reads the entry and its versions
//     in one round trip through a Lua script (BenchmarkTaggedGet in
//     tags_bench_test.go measures both ways). It is off by default
//     because every read then runs the script, which costs the server more
//     than a GET.
//   - InvalidateTags removes the tags' version keys: one pipelined round
//     trip of UNLINKs (per slot on a cluster), O(1) per tag. Removing a
//     version has the effect of drawing a new one (the entries written
//     with the old are misses) and leaves nothing behind for tags never
//     used again. The purged entries themselves stay until a read finds
//     them or they expire.
//
// A version key outlives every entry that carries it by at least a minute
// (and has no lifetime while one has no Expire): SetTagged lengthens it,
// to twice what is needed, only when it would end too soon. If Redis
// evicts it anyway (allkeys-lru, say), the entries carrying it read as
// misses, as after a purge; so does a write racing a purge, when it read
// the version before the purge removed it. Nothing written before a purge
// began is served after it.
//
// A tag costs the server its version key (8 bytes under Prefix and the
// tag, plus Redis's own overhead per key, which MEMORY USAGE reports),
// once per tag however many entries carry it, plus 10 bytes and the tag in
// each entry carrying it.
//
// Both buses carry purges: PubSubBus publishes hitbox.Invalidation.Tags
// (an older reader, which does not know the message's tag flag, clears its
// L1s instead), and TrackingBus reports every change of a version key
// (a purge by any process, an eviction, an expiry) as that tag in Tags.
//
// # Leases
//
// The store is a hitbox.Leaser, as memcache is: a lease lives in the key
// itself, so it works on a cluster as on one server, and every other
// write to the key ends it. Lease is one round trip (a script on the key,
// pipelined with the reads of the lease's tag versions): over an absent
// key it writes a placeholder that reads as a miss and lives two minutes;
// over an entry it writes a 10-byte head before it, which reads skip, and
// keeps the key at least two minutes; over a lease already there it
// shares that lease. SetLeased is one round trip too: a script writes the
// entry (behind the same head, so other leases on the key still hold)
// only while the key starts with the lease's head, pipelined with
// SetTagged's version reads; the entry carries the versions the lease
// read, so a purge between Lease and SetLeased leaves it a miss, and
// SetLeased reports the lease lost. A load's cold miss therefore pays one
// round trip more than a Set (TestLeaseRoundTrips). Lease writes the key:
// Redis tracking reports it to the clients that read it, as any write.
//
// # Waiting for replicas
//
// Redis replicates asynchronously: a master acknowledges a write before any
// replica has it, so a failover (Sentinel promoting a replica of a master
// that died or froze) can lose writes the store already returned nil for,
// and a Delete or a purge that is lost brings back what it replaced.
// Options.WaitReplicas makes every change (Set, SetTagged, SetLeased,
// SetMany, Delete, DeleteMany, Remove, InvalidateTags, Clear, ClearPrefix)
// wait until that many replicas have acknowledged it, with Redis's WAIT in
// the change's own pipeline, on its connection; a change that fewer
// replicas acknowledge within Options.WaitTimeout returns an error wrapping
// ErrNotReplicated and hitbox.ErrUnavailable that names the numbers:
//
//	store, err := redisstore.New(failoverClient, redisstore.Options{Prefix: "myapp:cache:", WaitReplicas: 1})
//
// What it guarantees: a change that returns nil had reached that many
// replicas, with every write the master made before it. Sentinel promotes
// the most up-to-date replica it can reach (replica-priority first, then
// the replication offset), so in most failovers the promoted replica holds
// every change that returned nil. What it does not: WAIT does not make
// Redis strongly consistent. A failover may still promote a replica that
// had not acknowledged (a lower replica-priority, or the acknowledging one
// lost too); replicas keep the change in memory, not on disk; and a change
// that returns the error was still made on the master and is not rolled
// back: it may or may not survive a failover, so the caller retries it or
// takes its outcome as unknown. Leases, locks and the removals reads make
// of entries they find unusable do not wait: losing them loses nothing a
// read could return (a lost lease only refuses its store). Clear and
// ClearPrefix wait once per page of keys they remove.
//
// What it costs: no client round trip (the WAIT rides in the change's
// pipeline) but one replication round trip per change, master to replica
// and back, before the change returns (BenchmarkWaitSet); reads do not
// change. WaitTimeout must be below the client's ReadTimeout, which bounds
// the change and its WAIT together, so the option leaves a call's stall
// bound as it is. It needs a *redis.Client, one server or a Sentinel
// failover client: WAIT counts the replicas of the node and connection it
// reaches, which a cluster or a ring pipeline cannot choose, so New
// refuses it there with an error wrapping hitbox.ErrNotSupported.
//
// # Errors
//
// Every error is a *hitbox.Error naming the operation and the store's
// Label. A missing key wraps hitbox.ErrMiss; a value the store did not
// write wraps hitbox.ErrCorrupt (and is removed). A refused or dropped
// connection, an I/O timeout, a cluster that is down or a redirect that
// failed wraps hitbox.ErrUnavailable and the go-redis error, so
// errors.Is(err, hitbox.ErrUnavailable) tells an outage from a miss. A done
// context wraps context.Canceled or context.DeadlineExceeded and not
// ErrUnavailable: the caller gave up, which says nothing about the server.
//
// # Keeping tiers coherent
//
// When many processes each have a tier (package tier) of their own L1 over
// one Store, a bus tells every tier what changed elsewhere, so its L1 drops
// the copy. There are two:
//
//   - TrackingBus, the first choice: Redis itself reports each key under
//     the store's prefix that changes (CLIENT TRACKING in broadcast mode),
//     whoever changed it (another process, a script, an operator, an
//     expiry) and a flush. It needs Redis 6 or later and a server that
//     allows CLIENT TRACKING, and keeps one connection per master on a
//     cluster. A process's own writes come back to it too: give its tier
//     tier.Options.OwnWrites.
//   - PubSubBus, the fallback: tiers publish their own changes on a
//     channel. It works where tracking is refused, with one connection
//     whatever the cluster's size, but sees only what tiers publish.
//
// A bus is given the store's prefix (or a channel) and handed to the tier
// as tier.Options.Bus (ExampleNewTrackingBus shows the whole tier):
//
//	bus, err := redisstore.NewTrackingBus(rdb, prefix, redisstore.BusOptions{}) // the store's prefix
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer bus.Close() // after the tier's Close, which unsubscribes
//
// Both tell the tiers to clear their L1s whenever a message may have been
// missed: on every connection and reconnection, when a connection falls
// silent (BusOptions.HealthCheck) and when subscribers fall behind.
//
// # Closing
//
// The store does not own the client unless Options.CloseClient says so:
// Close marks the store closed (every later operation fails with
// hitbox.ErrClosed) and leaves the client to whoever created it.
package redisstore
