// Package consistency checks, in the manner of Jepsen's checkers (Knossos,
// Elle), that a cache in front of a source of truth never answers a read
// with what an acknowledged change replaced: the property of issue 18 and
// of DESIGN.md's "Consistency" contract.
//
// A run has four parts, one file each:
//
//   - a source of truth (source.go): a version per key, raised by every
//     write; values carry the version they were made from, and loaders
//     read the source when they start, then take a while, as a loader
//     that read a row before a change would;
//   - a history (history.go): every operation's instance, kind, keys,
//     start, end and result (the versions it made or returned, or its
//     error), and every load's read of the source;
//   - a harness (harness.go, faults.go): N instances, each a
//     cache.Cache over a tier of memstore (L1) and redisstore (L2) joined
//     by a Redis bus, under random Set, Delete, InvalidateTags, Get,
//     GetOrLoad and GetOrLoadMany calls on a small key space, while a
//     fault scheduler kills, restarts, freezes and slows the Redis under
//     them, or fails it over, for bounded windows;
//   - a checker (checker.go, report.go): every read that returned a
//     version older than one acknowledged (a write that returned nil)
//     before the read began, by more than the bus's delivery bound, is a
//     violation, reported with the operations on its key around it; every
//     call longer than the stall bound is reported, and the longest.
//
// Writes of one key are serialized by the harness, as a database
// serializes the rows they stand for, so the order of their versions is
// the order of their cache calls and "what a write replaced" has one
// meaning: every lower version of its key. Reads run unserialized.
//
// TestConsistencyShort runs in the default test command. The long run,
// every fault and the Sentinel and Cluster deployments, runs with
// HITBOX_CONSISTENCY_LONG=1; HITBOX_CONSISTENCY_REPORT_ONLY=1 logs the
// violations without failing. Both need redis-server (and redis-cli for
// the cluster) and skip without it unless HITBOX_REQUIRE_REDIS=1.
package consistency
