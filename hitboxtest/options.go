package hitboxtest

import (
	"testing"

	"github.com/hitbox-go/hitbox"
)

// Options tune the suite; the zero value suits an in-process store on the
// fake clock. TestLayer reads MaxValueSize, LargeValue and MaxTagLen only: the
// store under the layer is the suite's own.
type Options struct {
	// RealTime: the backend keeps its own clock (a server's, e.g. Redis),
	// so the suite checks expiry with short real lifetimes (tens of ms) and
	// polls with a bounded deadline instead of advancing the fake clock.
	// Deadlines then need only come back to the millisecond.
	RealTime bool

	// MaxValueSize: the store's configured limit, if any; the suite then
	// checks that limit+1 is refused with ErrTooLarge naming the limit and
	// that a value of exactly the limit is stored. Larger round-trip sizes
	// are skipped. For TestLayer it is the layer's own limit, checked
	// the same way.
	MaxValueSize int

	// LargeValue: the size in bytes of the large, highly compressible value
	// (a run of zeros) the suite writes to check that what Set accepts,
	// Get returns: Set may refuse it with ErrTooLarge, but once accepted it
	// must come back whole. Set it above every size limit of the backend or
	// layer under test, including limits only its reader applies (such as
	// layer.CompressOptions.MaxDecompressed), so the check crosses them; the
	// suite holds a few copies at a time. Zero means DefaultLargeValue
	// (4 MiB); negative is a mistake the suite reports.
	LargeValue int

	// MaxTagLen: the longest tag the backend or layer takes, when it is
	// shorter than hitbox.MaxTagLen (layer.Prefix spends its prefix's
	// length on every tag); zero means hitbox.MaxTagLen. The tags subtest
	// checks that a tag of exactly this length is kept and one byte more
	// is refused with ErrInvalidTag.
	MaxTagLen int

	// DropsStale: the store keeps Expire but not Stale, as its doc says
	// (keeping Stale is then the Encode layer's job). The suite accepts a
	// zero Stale back instead of the one set. Leave it false when the store
	// keeps Stale: then it must come back exactly.
	DropsStale bool

	// Sibling, when set, returns a second backend over the same storage as
	// b (the same server and database, the same shared map) in a namespace
	// of its own, such as a store with another key prefix; neither
	// namespace may contain the other. The suite writes through both and
	// checks that Clear and ClearPrefix of b leave the sibling's keys.
	// Register cleanup with t.Cleanup. Leave it nil for a backend that is
	// alone in its storage (an in-process store).
	Sibling func(t *testing.T, b hitbox.Backend) hitbox.Backend
}
