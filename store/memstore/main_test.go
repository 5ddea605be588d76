package memstore

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: every store a
// test makes is closed, and Close must stop bigcache's cleaner.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
