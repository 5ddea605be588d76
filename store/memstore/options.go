package memstore

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/allegro/bigcache/v3"
)

// Options configures a Store. The zero value is a working configuration:
// every field left zero takes the default named in its comment.
type Options struct {
	// Label names the store in metrics, traces and errors. Default "memory".
	Label string

	// MaxBytes caps the memory bigcache holds entries in: the record bytes
	// (value, the 24-byte deadline header, bigcache's own 18-byte header,
	// the key and a 1 to 5 byte length) across all shards. bigcache sizes
	// this cap in whole MiB, so MaxBytes is rounded down to a whole MiB and
	// the cap is never above what was asked; under 1 MiB is refused. When
	// the cap is reached bigcache evicts the oldest entries of the shard
	// (first in, first out), so one Set may push out others. Default 64 MiB.
	MaxBytes int64

	// Shards is the number of independently locked parts, a power of two.
	// Each shard gets MaxBytes/Shards bytes. Default 64.
	Shards int

	// MaxValueSize is the largest value Set accepts, in bytes; a bigger
	// one is refused with an error wrapping hitbox.ErrTooLarge that names
	// this limit. A record must fit in half a shard (bigcache can fail to
	// place bigger ones), so a limit above that is invalid. Default 1 MiB,
	// or a quarter of a shard when that is smaller: 256 KiB with the other
	// defaults.
	MaxValueSize int

	// MaxTTL bounds how long any entry lives, whatever its Expire: Set
	// lowers a later (or zero) Expire to now+MaxTTL, and Get reports the
	// lowered deadline. It also becomes bigcache's LifeWindow, so bigcache
	// itself reclaims entries older than that. Zero means no bound beyond
	// the entry's own Expire and the memory cap.
	MaxTTL time.Duration

	// CleanInterval is how often bigcache's background goroutine removes
	// entries older than MaxTTL from the front of each shard. It runs only
	// when MaxTTL is set, until Close. bigcache counts in seconds, so
	// shorter intervals are raised to one second. Negative disables the
	// goroutine: bigcache then reclaims at most one such entry per Set.
	// Default one minute.
	CleanInterval time.Duration

	// Now is the clock deadlines are checked against. Default time.Now;
	// tests inject a fake one. It is read once by each Get that finds an
	// entry with an Expire and each Set of one (every Set when MaxTTL is
	// set), never on a miss.
	Now func() time.Time

	// MaxTagVersions bounds how many tags the store remembers a version
	// for (see SetTagged). When the table is full, using a new tag forgets
	// one of the others, whose entries then read as misses: a bound errs on
	// the side of a miss. Each remembered tag costs its map slot plus its
	// length (BenchmarkTagMemory measures it). Default 1<<20.
	MaxTagVersions int

	// DisableAdmission turns admission and re-insertion off: every write
	// is kept, and a full shard evicts its oldest entries to make room,
	// read or not. With admission on (the default), a write that would
	// evict is kept only if its key was read or written before, lately
	// (TinyLFU's frequency sketch, sized to the store's entries), and
	// otherwise declined, leaving key a miss, as a bounded cache may; and
	// an entry read since it was written gets a second chance when it
	// reaches the front of its shard's queue (see the package doc). While a
	// shard has room every write is kept.
	DisableAdmission bool

	// Logger receives reports of damaged entries found and dropped.
	// Default: discard.
	Logger *slog.Logger
}

// Defaults.
const (
	defaultLabel         = "memory"
	defaultMaxBytes      = 64 << 20
	defaultShards        = 64
	defaultMaxValueSize  = 1 << 20
	defaultCleanInterval = time.Minute
	defaultTagVersions   = 1 << 20
)

const (
	mib = 1 << 20

	// bigcacheHeader is the size of the header bigcache writes before each
	// key (timestamp, hash, key length); bigcache does not export it.
	bigcacheHeader = 18
	// queueLength is the most bytes bigcache's queue spends on a length.
	queueLength = 5
	// recordOverhead is every byte of a stored entry but the key and value.
	recordOverhead = headerSize + bigcacheHeader + queueLength

	// maxKeyLen is the longest key bigcache can read back. It keeps key
	// lengths in 16 bits and adds its header size to them in 16 bits too,
	// so a longer key would overflow that sum and panic inside bigcache's
	// Get.
	maxKeyLen = math.MaxUint16 - bigcacheHeader
	// minKeyRoom is the key length New insists a shard leaves room for.
	minKeyRoom = 256

	// forever stands for "no MaxTTL" as bigcache's LifeWindow: about 100
	// years, so bigcache never reclaims an entry for its age.
	forever = 100 * 365 * 24 * time.Hour
)

// settings is Options with defaults applied and limits derived.
type settings struct {
	label      string
	megabytes  int   // bigcache's HardMaxCacheSize
	limit      int64 // megabytes in bytes: the effective cap
	shards     int
	shardBytes int
	maxValue   int
	maxKey     int
	maxTTL     time.Duration
	clean      time.Duration // 0: no cleaner goroutine
	maxTags    int
	admit      bool
	now        func() time.Time
	log        *slog.Logger
}

// Validate reports the first option that cannot work, with the message New
// panics with: "hitbox/memstore: Options.<field>: <why>". A program that
// reads options from configuration calls it first to get an error rather
// than a panic. Zero values are never invalid: they mean the defaults.
func (o Options) Validate() error {
	_, err := o.resolve()
	return err
}

// invalid is the error of an option that cannot work.
func invalid(field, why string, args ...any) error {
	return errors.New("hitbox/memstore: Options." + field + ": " + fmt.Sprintf(why, args...))
}

// resolve applies defaults to o and checks that the result can work.
func (o Options) resolve() (settings, error) {
	s := settings{
		label:    o.Label,
		shards:   o.Shards,
		maxValue: o.MaxValueSize,
		maxTTL:   o.MaxTTL,
		now:      o.Now,
		log:      o.Logger,
		admit:    !o.DisableAdmission,
	}
	if s.label == "" {
		s.label = defaultLabel
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	maxBytes := o.MaxBytes
	switch {
	case maxBytes == 0:
		maxBytes = defaultMaxBytes
	case maxBytes < mib:
		return s, invalid("MaxBytes", "%d is under 1 MiB, the smallest cap bigcache can keep", maxBytes)
	}
	if s.shards == 0 {
		s.shards = defaultShards
	}
	if s.shards < 0 || s.shards&(s.shards-1) != 0 {
		return s, invalid("Shards", "%d is not a power of two", s.shards)
	}
	if maxBytes/mib > math.MaxInt32 {
		return s, invalid("MaxBytes", "%d is too large", maxBytes)
	}
	s.megabytes = int(maxBytes / mib)
	s.limit = int64(s.megabytes) * mib
	s.shardBytes = int(s.limit / int64(s.shards))
	if s.shardBytes > math.MaxUint32 {
		// bigcache indexes a shard with 32 bits.
		return s, invalid("Shards", "a shard of %d bytes is over 4 GiB: raise Shards", s.shardBytes)
	}
	// bigcache cannot always place a record over half a shard without
	// first evicting the whole shard, so records stay within half.
	room := s.shardBytes/2 - recordOverhead
	largest := room - minKeyRoom
	if largest < 1 {
		return s, invalid("Shards", "a shard of %d bytes (MaxBytes/Shards) is too small: lower Shards or raise MaxBytes", s.shardBytes)
	}
	switch {
	case s.maxValue == 0:
		s.maxValue = min(defaultMaxValueSize, s.shardBytes/4)
	case s.maxValue < 0:
		return s, invalid("MaxValueSize", "negative (%d)", s.maxValue)
	case s.maxValue > largest:
		return s, invalid("MaxValueSize", "%d does not fit a shard of %d bytes: at most %d, or raise MaxBytes or lower Shards",
			s.maxValue, s.shardBytes, largest)
	}
	s.maxKey = min(maxKeyLen, room-s.maxValue)
	switch s.maxTags = o.MaxTagVersions; {
	case s.maxTags == 0:
		s.maxTags = defaultTagVersions
	case s.maxTags < 0:
		return s, invalid("MaxTagVersions", "negative (%d)", s.maxTags)
	}
	if s.maxTTL < 0 {
		return s, invalid("MaxTTL", "negative (%v)", s.maxTTL)
	}
	if s.maxTTL > 0 {
		switch {
		case o.CleanInterval == 0:
			s.clean = defaultCleanInterval
		case o.CleanInterval > 0:
			s.clean = max(o.CleanInterval, time.Second)
		}
	}
	return s, nil
}

// bigcacheConfig is the configuration the store runs bigcache with.
func (s settings) bigcacheConfig() bigcache.Config {
	life := forever
	if s.maxTTL > 0 && s.maxTTL < forever {
		// bigcache keeps whole seconds; round up so it never reclaims an
		// entry that its header still calls live.
		life = (s.maxTTL + time.Second - 1).Truncate(time.Second)
	}
	return bigcache.Config{
		Shards:      s.shards,
		LifeWindow:  life,
		CleanWindow: s.clean,
		// Small initial queues: they grow by doubling up to the cap, so an
		// idle store does not hold MaxBytes from the start.
		MaxEntriesInWindow: 0,
		MaxEntrySize:       64,
		HardMaxCacheSize:   s.megabytes,
		// Verbose off and a silent logger: the library never prints.
		Verbose: false,
		Logger:  silent{},
	}
}

// silent is a bigcache.Logger that drops everything.
type silent struct{}

func (silent) Printf(string, ...any) {}
