// Package redistest starts real redis-server processes for tests: a single
// server, a three-master Redis Cluster (with or without a replica per
// master), or a master and replica watched by three sentinels, each on free
// loopback ports, torn down when the test (or the test binary) ends.
//
// A test that needs its own server, to kill or freeze it, starts one with
// Start (which skips the test when redis-server is not installed), talks to
// it through Client (closed at cleanup) and breaks it with Kill, Pause and
// Restart; this package's TestServerKillRestart shows the whole round.
//
// Failover tests start a cluster with a replica per master
// (StartReplicatedCluster), kill the master that MasterOf names for a key
// and wait with WaitHealthy until its replica serves the slots; or start a
// master and replica watched by three sentinels (StartSentinel), kill
// Master and follow the promotion through a failover Client. This
// package's TestReplicatedClusterFailover and TestSentinelFailover show
// both.
// Tests that only need some server share one per package, started on first
// use by Shared and stopped by Main, which the package's TestMain calls;
// they keep apart through Prefix, a key prefix unique to each test.
//
// When redis-server (or, for a cluster, redis-cli) is not on the PATH, the
// tests skip with one line saying how to install it, unless the environment
// sets HITBOX_REQUIRE_REDIS=1 (as CI does): then they fail.
package redistest
