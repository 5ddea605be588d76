// Package reliability holds no code, only tests: a tier of memstore over
// redisstore, under a typed GetOrLoad load, through the events production
// Redis lives through. Its figures are in RELIABILITY.md at the root of
// the module.
//
//   - failover_test.go: a Redis Cluster master and a Sentinel-watched master
//     killed under load, several instances sharing a tracking bus;
//   - faults_test.go: latency, a bandwidth cap, replies reset midway, a
//     black hole and half-open links, through internal/netfault;
//   - memory_test.go: a full server, with allkeys-lru and with noeviction;
//   - soak_test.go: all of it in turn for as long as HITBOX_SOAK says
//     (HITBOX_SOAK=10m go test -run Soak -timeout 0 ./internal/reliability/).
//
// The tests start their own servers (internal/redistest) and skip when
// redis-server is not installed, unless HITBOX_REQUIRE_REDIS=1. They run
// one after another, not in parallel, so the stalls they measure are the
// faults' and not a neighbour test's.
package reliability
