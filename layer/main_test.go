package layer_test

import (
	"testing"

	"go.uber.org/goleak"
)

// No layer starts a goroutine; the check keeps it that way (a timer left
// running by Timeout, a decoder started by Compress).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
