package codec

// CompressorByID returns the built-in Compressor with the given ID, at its
// default level, and whether there is one. Levels change only how values
// are written, so this is all a reader needs to restore a value whose ID
// was stored beside it, whichever compressor or level the writer used:
// 0 none, 1 snappy, 2 gzip, 3 zstd. The table is fixed; there is nothing
// to register.
func CompressorByID(id byte) (Compressor, bool) {
	switch id {
	case 0:
		return None(), true
	case 1:
		return Snappy(), true
	case 2:
		return Gzip(), true
	case 3:
		return Zstd(), true
	}
	return nil, false
}
