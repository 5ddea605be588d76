package httpcache

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/maphash"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
)

// The front of hot responses (Options.FrontBytes) keeps, per primary key,
// a stored response decoded once: its header fields as ready-made lines,
// its freshness lifetime and initial age, its body. A plain fresh hit (a
// GET or HEAD without preconditions, ranges or request directives, of a
// response that does not vary) is then written from it without decoding,
// checksumming or parsing anything.
//
// The front never answers on its own: the backend stays the one source
// of truth, so whatever changed the key there (a purge, a Remove, an
// invalidation by an unsafe method, a store of a newer response, on this
// instance or any other sharing the backend, expiry) is seen by the next
// hit as it is without a front. Over most backends every hit reads the
// key, and the front's entry is used only when the backend's value is
// byte for byte the record the entry was decoded from: what the front
// saves is the work after the read. Over a backend that stamps its keys
// (hitbox.Stamper: a memstore, which no other instance writes), an entry
// is used without a read while the key's stamp is the one taken around
// the read that filled or last matched it, and its entry's Expire has not
// passed: every change to the key moves the stamp first. Only what the
// backend drops on its own (an eviction, a tag version it forgot) goes
// unseen, and then the front answers the value the backend last held,
// fresh, until its own budget or the value's lifetime ends it.
type front struct {
	seed     maphash.Seed
	maxShard int64 // bytes each shard may hold
	shards   [frontShards]frontShard
	// seen is the doorkeeper: a key enters the front on its second read
	// since seen was last cleared, so a key read once (a scan over many
	// URLs) costs the front nothing but a bit.
	seen     [frontSeenWords]atomic.Uint64
	seenSets atomic.Int64
	// hitMarks holds the Cache-Status values of plain hits by freshness
	// left, shared by every entry (see markTable).
	hitMarks markTable
}

const (
	frontShards    = 16
	frontSeenWords = 1 << 10 // 64 Ki bits
	// frontEntryOverhead approximates an entry's bookkeeping beyond its
	// record, for the byte budget.
	frontEntryOverhead = 256
)

type frontShard struct {
	mu    sync.RWMutex
	m     map[string]*hotEntry
	bytes int64
	_     [32]byte // keep shards' locks off one another's cache lines
}

func newFront(maxBytes int64) *front {
	f := &front{seed: maphash.MakeSeed(), maxShard: maxBytes / frontShards}
	for i := range f.shards {
		f.shards[i].m = make(map[string]*hotEntry)
	}
	return f
}

// hotEntry is one decoded stored response. Everything in it is immutable
// once it is in the front, and is shared by every request it answers: the
// header lines go into response headers as they are (capped slices, so an
// Add by a later handler copies rather than writes into them).
type hotEntry struct {
	key  string
	raw  []byte // the stored record, the front's own copy: what a hit compares the backend's value with
	size int64  // what the entry counts against the front's budget

	// sum and n are the checksum and length of a tombstone's record.
	sum uint32
	n   int

	// unusable: a record the front cannot answer from (it varies, it must
	// be validated on every use, it is a vary index): kept as a tombstone
	// of the record's length and checksum so it is not decoded again at
	// every read; raw is nil. A tombstone that matches a different record only
	// sends a request the usual way.
	unusable bool
	// pass: a marker, not a response: the last response to a plain
	// request for the key could not be stored, whatever the request, so
	// until passUntil (Unix nanoseconds) plain requests for it go to the
	// handler at once, without reading the backend, taking a lease or
	// waiting on a collapsed miss, as Varnish's hit-for-pass does. Their
	// responses are never stored (no lease protects them); the first that
	// could be drops the marker.
	pass      bool
	passUntil int64
	// traced: the read that filled the entry recorded which level of a
	// composite backend answered (hitbox.Answer); hits then track it for
	// Cache-Status's detail, and otherwise spare the context it takes.
	traced bool

	// stamp is the backend's stamp (hitbox.Stamper) under which raw is
	// what the backend holds, plus one; 0 for none. expire is the
	// backend entry's Expire in Unix nanoseconds (0: none), past which
	// the stamp proves nothing.
	stamp  atomic.Uint64
	expire int64

	status   int
	body     []byte // aliases raw
	lines    []hotLine
	noCT     bool     // send no Content-Type (none stored; net/http must not sniff one)
	upstream []string // Cache-Status members stored with the response
	lifetime time.Duration
	hasLife  bool
	initAge  time.Duration // corrected initial age (RFC 9111 §4.2.3)
	respTime time.Time

	marks atomic.Pointer[hotMarks]
}

// hotLine is one header field as it goes out.
type hotLine struct {
	name string
	vals []string
}

// hotMarks are the Age and Cache-Status values of an entry with a detail
// or upstream members for one age in whole seconds and one detail:
// rendered once, then shared by every hit in that second. A plain hit's
// values are shared between entries instead (see markTable).
type hotMarks struct {
	age     int64
	detail  string
	ageVals []string
	csVals  []string
	cs      string
}

// answers recycles the hitbox.Answer of a hot read that the front
// answered (hitbox.ContextWithAnswer allows it).
var answers = sync.Pool{New: func() any { return new(hitbox.Answer) }}

// hotRequest reports whether r may be answered by the front: a GET or
// HEAD whose answer, when the stored response is fresh, is the stored
// response as it is (no directives, preconditions, ranges or protocol
// switch), into an empty response header.
func (c *Cache) hotRequest(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	// One pass over the request's few fields costs less than a lookup of
	// each name that would send it the usual way; it makes unsafeRequest's
	// pass over them too.
	for name, v := range r.Header {
		if len(v) > 0 && notHot(name) || c.bypassField(name) {
			return false
		}
	}
	return !c.opts.ShowKey && len(w.Header()) == 0 && !c.unsafeContent(r) && !unsafeTarget(r)
}

// notHot reports whether a request field named name (canonical) keeps a
// request from the front: a directive, a precondition, a range or a
// protocol switch.
func notHot(name string) bool {
	switch name {
	case "Cache-Control", "Pragma", "Upgrade", "If-None-Match", "If-Modified-Since",
		"If-Match", "If-Unmodified-Since", "Range", "If-Range":
		return true
	}
	return false
}

// serveHot answers a request hotRequest admitted: from the front when the
// backend holds the very record the front decoded and it is fresh, else
// the usual way, with the value already read.
func (h *handler) serveHot(w http.ResponseWriter, r *http.Request) {
	c, f := h.c, h.c.front
	// The key is rendered on the stack and found in the front as bytes:
	// a key the front holds is not allocated again.
	var kb [192]byte
	var he *hotEntry
	var sh *frontShard
	var key string
	if b, ok := c.appendPrimaryKey(kb[:0], r); ok {
		if len(b) > maxKeyLen {
			h.serveExchange(w, r) // a bounded key: the usual way
			return
		}
		sh = f.shardOf(maphash.Bytes(f.seed, b))
		sh.mu.RLock()
		he = sh.m[string(b)]
		sh.mu.RUnlock()
		if he != nil {
			key = he.key
		} else {
			key = string(b)
		}
	} else {
		if key = c.fullPrimaryKey(r); len(key) > maxKeyLen {
			h.serveExchange(w, r)
			return
		}
		sh = f.shard(key)
		sh.mu.RLock()
		he = sh.m[key]
		sh.mu.RUnlock()
	}
	now := c.opts.Now()
	var st0 uint64
	stOK := false
	if c.stamper != nil && (he == nil || !he.traced) {
		// Taken before the read, so a change the read might miss moves it.
		st0, stOK = c.stamper.Stamp(key)
		if stOK && he != nil && he.heldAt(st0, now) && c.writeHot(w, r, he, now, nil) {
			c.stamper.Hit(key)
			return
		}
	}
	stamp, tagStamp := c.guard.Stamp(key), c.purges.stamp()
	if he != nil && he.pass {
		if now.UnixNano() < he.passUntil {
			x := h.newExchange(w, r, false) // a pass reads nothing
			x.now, x.req, x.key, x.stamp, x.tagStamp = now, noDirectives, key, stamp, tagStamp
			x.hot, x.pass = true, true
			x.cs.fwd = fwdURIMiss
			x.forward()
			c.obs.record(r.Context(), x.result, x.csValue)
			return
		}
		he = nil
	}

	// A key the front does not hold is read through an exchange from the
	// start, as without a front: the read may fill the front and be
	// answered from it, else the exchange goes on with what it read.
	var x *exchange
	var a *hitbox.Answer
	ctx := r.Context()
	switch {
	case he == nil:
		// A key the front does not hold is most often one the backend
		// does not hold either: a miss needs no decoding buffer.
		x = h.newExchange(w, r, false)
		x.actx = hitbox.ContextWithAnswer(ctx, &x.ans)
		ctx, a = x.actx, &x.ans
	case he.traced:
		a = answers.Get().(*hitbox.Answer)
		ctx = hitbox.ContextWithAnswer(ctx, a)
	}
	e, err := c.b.Get(ctx, key)
	if err == nil {
		switch {
		case he != nil && he.matches(e.Value):
			c.stampHot(he, key, st0, stOK, e)
		case he != nil && he.unusable && he.n == len(e.Value) && he.sum == recordSum(e.Value):
			he = nil // known unusable: the usual way
		default:
			if he != nil {
				f.drop(sh, he)
			}
			he = nil
			if f.admit(key) {
				he = c.decodeHot(key, e.Value, a != nil && a.Found())
				he.expire = unixNano(e.Expire)
				c.stampHot(he, key, st0, stOK, e)
				f.add(sh, he)
				if he.unusable {
					he = nil
				}
			}
		}
		if he != nil && c.writeHot(w, r, he, now, a) {
			if a != nil && x == nil {
				a.Reset()
				answers.Put(a)
			}
			return
		}
	} else if he != nil {
		f.drop(sh, he)
	}
	// The usual way, with what was read.
	if x == nil {
		x = h.newExchange(w, r, err == nil)
		if a != nil {
			x.ans = *a // a is not recycled: x.ans shares its records
		}
	}
	x.now, x.req, x.key, x.stamp, x.tagStamp = now, noDirectives, key, stamp, tagStamp
	x.idxEntry, x.gotErr, x.preread = e, err, true
	x.hot = true
	x.lookup()
	x.decide()
	c.obs.record(r.Context(), x.result, x.csValue)
}

// passFor is how long a pass marker sends a key's plain requests
// straight to the handler (see hotEntry.pass); a response that can be
// stored ends it at once.
const passFor = 30 * time.Second

// notePass keeps the front's pass marker for the key of a plain request
// (see hotEntry.pass) in step with why its response is not stored: a
// reason of the response's own marks the key, on its second sighting; a
// response that could be stored drops a marker.
func (c *Cache) notePass(key, why string, now time.Time) {
	f := c.front
	sh := f.shard(key)
	sh.mu.RLock()
	he := sh.m[key]
	sh.mu.RUnlock()
	switch why {
	case "":
		if he != nil && he.pass {
			f.drop(sh, he)
		}
	case whyStatus, whyNoStore, whyPrivate, whySetCookie, whyVaryStar, whyNotCacheable, whyUnderstand:
		// A marker is not renewed by the requests it passes: it lapses,
		// and the next plain request that reads the backend renews it.
		if he == nil && f.admit(key) {
			f.add(sh, &hotEntry{key: key, pass: true, passUntil: now.Add(passFor).UnixNano(), size: frontEntryOverhead})
		}
	}
}

// answerContext is the context lookup reads the backend with, carrying
// x.ans: the one serveHot made, or a new one.
func (x *exchange) answerContext() context.Context {
	if x.actx != nil {
		return x.actx
	}
	return hitbox.ContextWithAnswer(x.r.Context(), &x.ans)
}

// firstGet reads the primary key for lookup, or returns what serveHot
// read already.
func (x *exchange) firstGet(ctx context.Context) (hitbox.Entry, error) {
	if x.preread {
		e, err := x.idxEntry, x.gotErr
		x.preread, x.idxEntry, x.gotErr = false, hitbox.Entry{}, nil
		return e, err
	}
	return x.c.b.Get(ctx, x.key)
}

// writeHot answers from he when it is fresh at now, as serveStored would
// answer from the same record: the stored fields, Age, Cache-Status. It
// reports false, having written nothing, when he is not fresh.
func (c *Cache) writeHot(w http.ResponseWriter, r *http.Request, he *hotEntry, now time.Time, a *hitbox.Answer) bool {
	age := (he.initAge + max(0, now.Sub(he.respTime))).Truncate(time.Second)
	if !he.hasLife || age >= he.lifetime {
		return false
	}
	detail := ""
	if a != nil && a.Found() {
		detail = a.Path()
	}
	var ageVals, csVals []string
	var cs string
	if ttl := int64((he.lifetime - age) / time.Second); detail == "" && len(he.upstream) == 0 && ttl >= 0 {
		ageVals = ageMarkValues(ageSeconds(age))
		csVals = hitMarkValues(&c.front.hitMarks, c.opts.CacheName, ttl)
		cs = csVals[0]
	} else {
		m := c.marksOf(he, age, detail)
		ageVals, csVals, cs = m.ageVals, m.csVals, m.cs
	}
	hdr := w.Header()
	for _, l := range he.lines {
		hdr[l.name] = l.vals
	}
	hdr["Age"] = ageVals
	if he.noCT {
		hdr["Content-Type"] = nil
	}
	hdr["Cache-Status"] = csVals
	w.WriteHeader(he.status)
	if r.Method != http.MethodHead && len(he.body) > 0 {
		_, _ = w.Write(he.body)
	}
	c.obs.record(r.Context(), resHit, cs)
	return true
}

// marksOf returns he's Age and Cache-Status values for age and detail,
// rendering them when the ones kept are for another second or detail.
func (c *Cache) marksOf(he *hotEntry, age time.Duration, detail string) *hotMarks {
	secs := ageSeconds(age)
	if m := he.marks.Load(); m != nil && m.age == secs && m.detail == detail {
		return m
	}
	cs := cacheStatus{name: c.opts.CacheName, hit: true, detail: detail, hasTTL: true,
		ttl: int64((he.lifetime - age) / time.Second)}
	m := &hotMarks{age: secs, detail: detail}
	m.cs = cs.String()
	m.ageVals = []string{strconv.FormatInt(secs, 10)}
	m.csVals = append(he.upstream[:len(he.upstream):len(he.upstream)], m.cs)
	m.csVals = m.csVals[:len(m.csVals):len(m.csVals)]
	he.marks.Store(m)
	return m
}

// heldAt reports whether he's record is still the backend's at now by
// the stamp st: the key's stamp has not moved since he was stamped, and
// the backend's entry has not expired.
func (he *hotEntry) heldAt(st uint64, now time.Time) bool {
	return he.stamp.Load() == st+1 && (he.expire == 0 || now.UnixNano() < he.expire)
}

// stampHot stamps he with st0, the stamp taken before the read that
// returned e, when the key's stamp is still st0 after the read (no change
// crossed it) and e is the entry he was filled from, deadline included.
func (c *Cache) stampHot(he *hotEntry, key string, st0 uint64, ok bool, e hitbox.Entry) {
	if !ok || he.unusable || he.expire != unixNano(e.Expire) {
		return
	}
	if st1, ok := c.stamper.Stamp(key); ok && st1 == st0 {
		he.stamp.Store(st0 + 1)
	}
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// matches reports whether v is the record he was decoded from.
func (he *hotEntry) matches(v []byte) bool {
	return !he.unusable && bytes.Equal(he.raw, v)
}

// recordSum is a stored record's checksum, its last four bytes (0 for a
// value too short to be a record).
func recordSum(v []byte) uint32 {
	if len(v) < 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(v[len(v)-4:])
}

// decodeHot decodes the record v (a value the backend returned) for the
// front, from a copy of its own, or returns a tombstone when the front
// cannot answer from it.
func (c *Cache) decodeHot(key string, v []byte, traced bool) *hotEntry {
	tomb := &hotEntry{key: key, unusable: true, sum: recordSum(v), n: len(v), size: frontEntryOverhead}
	if len(v) == 0 || v[0] != recResponse {
		return tomb
	}
	raw := bytes.Clone(v)
	// The strings decoded alias raw, which no one modifies.
	kind, meta, rest, err := openRecord(raw[1:], true)
	if err != nil || kind != kindResponse {
		return tomb
	}
	sr, err := decodeResponse(meta, rest)
	if err != nil || len(sr.varyNames) > 0 || sr.variantOf != "" || sr.status == http.StatusPartialContent {
		// A part answers only ranges inside it (see answerFromPart).
		return tomb
	}
	hdr := sr.header()
	v2 := c.viewOfHeader(hdr, sr.status, sr.requestTime, sr.responseTime, sr.responseTime)
	if v2.cc.noCache || len(v2.cc.noCacheFields) > 0 || !v2.hasLife {
		return tomb
	}
	he := &hotEntry{
		key: key, raw: raw, size: int64(len(raw)) + frontEntryOverhead, traced: traced,
		status: sr.status, body: sr.body, lifetime: v2.lifetime, hasLife: v2.hasLife,
		initAge:  correctedInitialAge(hdr, sr.requestTime, sr.responseTime),
		respTime: sr.responseTime,
		noCT:     len(hdr["Content-Type"]) == 0 && bodyAllowed(sr.status),
	}
	if cs := hdr["Cache-Status"]; len(cs) > 0 {
		he.upstream = cs[:len(cs):len(cs)]
	}
	if bodyAllowed(sr.status) {
		if cl := hdr["Content-Length"]; len(cl) != 1 || !isLength(cl[0], len(sr.body)) {
			hdr["Content-Length"] = []string{strconv.Itoa(len(sr.body))}
		}
	}
	he.lines = make([]hotLine, 0, len(hdr))
	for name, vals := range hdr {
		if name == "Age" || name == "Cache-Status" || hasName(c.strip, name) {
			continue
		}
		he.lines = append(he.lines, hotLine{name: name, vals: vals[:len(vals):len(vals)]})
		he.size += int64(len(name)) + 32
	}
	return he
}

// hasName reports whether names holds name exactly (both canonical).
func hasName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func (f *front) shard(key string) *frontShard { return f.shardOf(maphash.String(f.seed, key)) }

// shardOf is the shard of a key whose hash is h (maphash.String and
// maphash.Bytes agree on equal contents).
func (f *front) shardOf(h uint64) *frontShard { return &f.shards[h%frontShards] }

// admit reports whether key has been read before since the doorkeeper
// was last cleared, and marks it read.
func (f *front) admit(key string) bool {
	h := maphash.String(f.seed, key) >> 4 // the low bits chose the shard
	w := &f.seen[h%frontSeenWords]
	bit := uint64(1) << ((h / frontSeenWords) % 64)
	if w.Load()&bit != 0 {
		return true
	}
	w.Or(bit)
	if f.seenSets.Add(1) > frontSeenWords*64/4 {
		// A quarter of the bits set: start again, so the doorkeeper keeps
		// telling recent keys from old ones.
		f.seenSets.Store(0)
		for i := range f.seen {
			f.seen[i].Store(0)
		}
	}
	return false
}

// add puts he in its shard, replacing what the key held and evicting
// other entries until the shard is within its budget.
func (f *front) add(sh *frontShard, he *hotEntry) {
	if he.size > f.maxShard {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old := sh.m[he.key]; old != nil {
		sh.bytes -= old.size
	}
	sh.m[he.key] = he
	sh.bytes += he.size
	for k, e := range sh.m { // an arbitrary victim each time
		if sh.bytes <= f.maxShard {
			break
		}
		if k == he.key {
			continue
		}
		delete(sh.m, k)
		sh.bytes -= e.size
	}
}

// drop removes he from its shard, if it is still there.
func (f *front) drop(sh *frontShard, he *hotEntry) {
	sh.mu.Lock()
	if sh.m[he.key] == he {
		delete(sh.m, he.key)
		sh.bytes -= he.size
	}
	sh.mu.Unlock()
}
