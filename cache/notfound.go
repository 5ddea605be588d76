package cache

import (
	"bytes"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// notFound is what the cache stores for a loader's "not found" (see
// Options.MissTTL). No format this module has writes these bytes for a
// value (JSON, CBOR, MessagePack and gob values never start with a 0 byte
// followed by more): only a []byte or string cache storing exactly them
// would read its own value as "not found".
var notFound = []byte("\x00hitbox:not-found\x00")

// errNotFound is returned for a cached "not found".
var errNotFound = fmt.Errorf("%w: cached as not found", hitbox.ErrMiss)

func isNotFound(v []byte) bool { return len(v) == len(notFound) && bytes.Equal(v, notFound) }
