package codec

import "fmt"

// Level trades compression speed for size. The zero value is LevelDefault,
// each compressor's own recommended balance.
type Level int

// Compression levels, mapped onto each library's own scale.
const (
	// LevelFastest compresses as fast as the library can, at some cost in size.
	LevelFastest Level = -1
	// LevelDefault is the library's recommended balance; the zero value.
	LevelDefault Level = 0
	// LevelBetter spends more CPU than the default for smaller output.
	LevelBetter Level = 1
	// LevelBest gives the smallest output the library offers; slow.
	LevelBest Level = 2
)

// String returns the level's name, for logs.
func (l Level) String() string {
	switch l {
	case LevelFastest:
		return "fastest"
	case LevelDefault:
		return "default"
	case LevelBetter:
		return "better"
	case LevelBest:
		return "best"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// index maps a level onto 0..3 for per-level tables. An unknown level is a
// programmer error and panics, as a constructor given a bad constant should.
func (l Level) index() int {
	if l < LevelFastest || l > LevelBest {
		panic(fmt.Sprintf("hitbox/codec: Level: unknown compression level %d", int(l)))
	}
	return int(l - LevelFastest)
}

// levels is the number of defined levels, the size of per-level tables.
const levels = int(LevelBest-LevelFastest) + 1
