package redisstore

// Slot is the cluster hash slot of a stored key, for tests that place
// entries on every slot.
var Slot = slot

// TagSpace starts the key of a tag's version after the store's Prefix.
const TagSpace = tagSpace

// StorePrefix returns the store's resolved Prefix.
func StorePrefix(s *Store) string { return s.opt.Prefix }

// SetReadScript turns the one-round-trip read script of a single server
// on or off, so benchmarks can compare both ways of reading.
func SetReadScript(s *Store, on bool) { s.script = on && s.kind == single }
