// Package redistest starts real redis-server processes for tests: a single
// server or a three-master Redis Cluster, each on free loopback ports, torn
// down when the test (or the test binary) ends.
//
// A test that needs its own server, for example to kill it:
//
//	func TestOutage(t *testing.T) {
//		srv := redistest.Start(t) // skips when redis-server is not installed
//		rdb := srv.Client(t)      // closed at cleanup
//		srv.Kill()                // SIGKILL
//		srv.Restart(t)            // same port; rdb reconnects
//	}
//
// Tests that only need some server share one per package, started on first
// use and stopped by Main, and keep apart through per-test key prefixes:
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		rdb := redistest.Shared(t).Client(t)
//		prefix := redistest.Prefix(t) // unique to this test
//		...
//	}
//
// When redis-server (or, for a cluster, redis-cli) is not on the PATH, the
// tests skip with one line saying how to install it, unless the environment
// sets HITBOX_REQUIRE_REDIS=1 (as CI does): then they fail.
package redistest
