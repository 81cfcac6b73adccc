package core

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The spool makes forwarded after-callbacks durable. Each one is written to
// its own file in <spool>/pending, synced to disk and renamed into place
// before the platform is acknowledged; a worker (spool_worker.go) delivers
// the files in order and removes each once the business service answered
// 2xx, or moves it to <spool>/dead after maxAge. Plain files, fsync and
// atomic renames keep it standard-library only, so the same format and code
// serve Caddy and the Traefik plugin under Yaegi.

// spoolEntry is one after-callback waiting for delivery, as stored.
type spoolEntry struct {
	// Version of the format.
	Version int `json:"v"`
	// ID is the delivery id sent as X-Imgate-Delivery-Id: a hash of the
	// platform, command and body, so a platform's retry of the same
	// callback has the same id.
	ID string `json:"id"`
	// Created is when the callback arrived, unix milliseconds.
	Created int64 `json:"created"`
	// Platform, Event, Command and Group describe the callback for logs and
	// ordering (one group's entries are delivered in order).
	Platform string `json:"platform"`
	Event    string `json:"event"`
	Command  string `json:"command"`
	Group    string `json:"group"`
	// RawQuery is the callback's query, sent along in the native format.
	RawQuery  string `json:"rawQuery,omitempty"`
	KeepQuery bool   `json:"keepQuery,omitempty"`
	// Header holds the X-Imgate-* headers of the forward.
	Header map[string]string `json:"header"`
	// Body is what the upstream receives.
	Body []byte `json:"body"`
}

// spoolFormatVersion is written into every entry.
const spoolFormatVersion = 1

// spool is one spool directory: its files and the index of what is
// pending. One process runs one spool (and one worker) per directory,
// shared by every engine configured with it (spools below).
type spool struct {
	dir  string
	refs int // guarded by spools.Lock

	mu sync.Mutex
	// cfg is the latest configuration an engine brought: the last config
	// loaded wins.
	cfg deliverySettings
	// pending is ordered by file name, i.e. by arrival.
	pending []*pendingEntry
	bytes   int64
	seq     int64
	// recent remembers delivery ids for the dedup window: a platform retry
	// of an after-callback already spooled or delivered is not spooled
	// again. marks holds the same ids in the order they expire, so that
	// expired ones are dropped cheaply and the memory stays bounded.
	recent map[string]int64
	marks  []recentMark
	// wake tells the worker that something changed.
	wake    *sync.Cond
	closed  bool
	running int
	done    *sync.Cond

	stats spoolCounters
	// observer hears every delivery event (see OnSpoolEvent).
	observer atomic.Value
}

// pendingEntry is the in-memory index of one file in pending.
type pendingEntry struct {
	name     string
	id       string
	group    string
	platform string
	event    string
	created  int64 // unix ms
	size     int64
	attempts int
	due      int64 // unix nanoseconds of the next attempt
	inFlight bool
}

// recentMark is one remembered delivery id and when it expires.
type recentMark struct {
	id    string
	until int64 // unix nanoseconds
}

// spoolCounters count what the spool did, for metrics.
type spoolCounters struct {
	queued, delivered, retried, dead, duplicates, rejected atomic.Int64
}

// errSpoolFull marks a callback the spool had no room for.
var errSpoolFull = errors.New("spool full")

// spools holds the open spools by absolute directory.
var spools = struct {
	sync.Mutex
	byDir map[string]*spool
}{byDir: map[string]*spool{}}

// acquireSpool returns the spool for the settings' directory, opening it
// (and starting its worker) when no engine uses it yet, and makes cfg its
// configuration. Every successful call must be paired with releaseSpool.
func acquireSpool(cfg deliverySettings) (*spool, error) {
	spools.Lock()
	defer spools.Unlock()
	if sp, ok := spools.byDir[cfg.dir]; ok {
		sp.refs++
		sp.mu.Lock()
		sp.cfg = cfg
		sp.mu.Unlock()
		sp.wake.Broadcast()
		return sp, nil
	}
	sp, err := openSpool(cfg)
	if err != nil {
		return nil, err
	}
	sp.refs = 1
	spools.byDir[cfg.dir] = sp
	go runSpool(sp)
	return sp, nil
}

// releaseSpool drops one reference; the last one stops the worker, after
// the deliveries in flight end (each is bounded by its timeout).
func releaseSpool(sp *spool) {
	spools.Lock()
	sp.refs--
	last := sp.refs == 0
	if last {
		delete(spools.byDir, sp.dir)
	}
	spools.Unlock()
	if last {
		sp.close()
	}
}

// openSpool creates the directories if needed, removes half-written files
// a crash left behind, and indexes the pending entries.
func openSpool(cfg deliverySettings) (*spool, error) {
	for _, sub := range []string{"pending", "dead", "tmp"} {
		if err := os.MkdirAll(filepath.Join(cfg.dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("delivery.spool: %s: %w", err.Error(), ErrConfig)
		}
	}
	sp := &spool{dir: cfg.dir, cfg: cfg, recent: map[string]int64{}}
	sp.wake = sync.NewCond(&sp.mu)
	sp.done = sync.NewCond(&sp.mu)
	tmp, err := os.ReadDir(filepath.Join(cfg.dir, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("delivery.spool: %s: %w", err.Error(), ErrConfig)
	}
	for _, f := range tmp {
		// Written but never renamed: the platform was not acknowledged.
		_ = os.Remove(filepath.Join(cfg.dir, "tmp", f.Name()))
	}
	files, err := os.ReadDir(filepath.Join(cfg.dir, "pending"))
	if err != nil {
		return nil, fmt.Errorf("delivery.spool: %s: %w", err.Error(), ErrConfig)
	}
	// ReadDir returns the names sorted, and names sort by arrival.
	now := time.Now()
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".json") {
			continue
		}
		e, size, rerr := readEntry(filepath.Join(cfg.dir, "pending", f.Name()))
		if rerr != nil {
			// Unreadable: keep it out of the way for the operator.
			_ = os.Rename(filepath.Join(cfg.dir, "pending", f.Name()), filepath.Join(cfg.dir, "dead", f.Name()))
			continue
		}
		sp.pending = append(sp.pending, &pendingEntry{
			name: f.Name(), id: e.ID, group: e.Platform + "\x00" + e.Group, platform: e.Platform, event: e.Event,
			created: e.Created, size: size, due: now.UnixNano(),
		})
		sp.bytes += size
		sp.remember(e.ID, now.Add(cfg.dedupWindow).UnixNano(), now.UnixNano())
	}
	return sp, nil
}

// remember records a delivery id until the given time, dropping expired
// ids and, past the bound, the ones that would expire first. Callers hold
// sp.mu.
func (sp *spool) remember(id string, until, now int64) {
	limit := 2 * sp.cfg.maxEntries
	drop := 0
	for drop < len(sp.marks) && (sp.marks[drop].until <= now || len(sp.marks)-drop >= limit) {
		m := sp.marks[drop]
		if sp.recent[m.id] == m.until {
			delete(sp.recent, m.id)
		}
		drop++
	}
	if drop > 0 {
		sp.marks = append(sp.marks[:0], sp.marks[drop:]...)
	}
	sp.recent[id] = until
	sp.marks = append(sp.marks, recentMark{id: id, until: until})
}

// deliveryID identifies a callback's content: a platform that retries an
// after-callback sends the same platform, command and body (only the query's
// signature and time change).
func deliveryID(platform, command string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(platform))
	h.Write([]byte{0})
	h.Write([]byte(command))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// add writes an entry durably: to tmp, synced, renamed into pending, the
// directory synced. It returns (false, nil) for a duplicate within the
// dedup window, errSpoolFull when the spool is at its limits, or the
// write's error; only a nil error means the entry will be delivered.
//
// claim, when not nil, asks the replicas' shared store whether this entry
// is the first of its id within the window (another replica may have taken
// the platform's retry of the same callback). It is asked only once the
// entry is on disk, so a claim is never made for an entry that could still
// be lost; an entry another replica claimed is removed again, and a claim
// that fails keeps the entry (at least once, not at most once).
func (sp *spool) add(e *spoolEntry, now time.Time, claim func(id string, ttl time.Duration) bool) (bool, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return false, fmt.Errorf("encoding spool entry: %s: %w", err.Error(), ErrUpstream)
	}
	size := int64(len(data))
	sp.mu.Lock()
	cfg := sp.cfg
	if until, seen := sp.recent[e.ID]; seen && until > now.UnixNano() {
		sp.mu.Unlock()
		sp.stats.duplicates.Add(1)
		return false, nil
	}
	if len(sp.pending) >= cfg.maxEntries || sp.bytes+size > cfg.maxBytes {
		sp.mu.Unlock()
		sp.stats.rejected.Add(1)
		return false, fmt.Errorf("%d entries, %d bytes pending (limits %d, %d): %w", len(sp.pending), sp.bytes, cfg.maxEntries, cfg.maxBytes, errSpoolFull)
	}
	sp.seq++
	// Names sort by arrival: nanoseconds, then a sequence for ties.
	name := fmt.Sprintf("%019d-%06d.json", now.UnixNano(), sp.seq%1000000)
	// Reserve the room now, so concurrent writers cannot overshoot.
	sp.bytes += size
	sp.remember(e.ID, now.Add(cfg.dedupWindow).UnixNano(), now.UnixNano())
	sp.mu.Unlock()

	if err = writeDurably(sp.dir, name, data); err != nil {
		sp.mu.Lock()
		sp.bytes -= size
		delete(sp.recent, e.ID)
		sp.mu.Unlock()
		return false, err
	}
	if claim != nil && !claim(e.ID, cfg.dedupWindow) {
		// Left on disk only if the remove fails: then it is delivered
		// after a restart, a duplicate the receiver's dedup absorbs.
		os.Remove(filepath.Join(sp.dir, "pending", name))
		sp.mu.Lock()
		sp.bytes -= size
		sp.mu.Unlock()
		sp.stats.duplicates.Add(1)
		return false, nil
	}
	entry := &pendingEntry{
		name: name, id: e.ID, group: e.Platform + "\x00" + e.Group, platform: e.Platform, event: e.Event,
		created: e.Created, size: size, due: now.UnixNano(),
	}
	sp.mu.Lock()
	// Keep the index in arrival order: a writer that reserved its name
	// earlier may finish later.
	i := len(sp.pending)
	sp.pending = append(sp.pending, entry)
	for i > 0 && sp.pending[i-1].name > name {
		sp.pending[i] = sp.pending[i-1]
		i--
	}
	sp.pending[i] = entry
	sp.mu.Unlock()
	sp.stats.queued.Add(1)
	sp.wake.Broadcast()
	return true, nil
}

// writeDurably writes data to pending/name so that, once it returns nil,
// the file survives a crash and is either whole or absent.
func writeDurably(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("spool write: %s: %w", err.Error(), ErrUpstream)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if werr != nil || serr != nil || cerr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("spool write: %s: %w", firstError(werr, serr, cerr).Error(), ErrUpstream)
	}
	if err = os.Rename(tmp, filepath.Join(dir, "pending", name)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("spool write: %s: %w", err.Error(), ErrUpstream)
	}
	return syncDir(filepath.Join(dir, "pending"))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool sync: %s: %w", err.Error(), ErrUpstream)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("spool sync: %s: %w", err.Error(), ErrUpstream)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func readEntry(path string) (*spoolEntry, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var e spoolEntry
	if err = json.Unmarshal(data, &e); err != nil {
		return nil, 0, err
	}
	if e.Version != spoolFormatVersion || e.ID == "" {
		return nil, 0, fmt.Errorf("%s: not a version %d spool entry: %w", path, spoolFormatVersion, ErrBadBody)
	}
	return &e, int64(len(data)), nil
}

// SpoolStats describes the spools of this process, for metrics.
type SpoolStats struct {
	// Depth is the number of entries waiting for delivery.
	Depth int
	// Bytes is their size on disk.
	Bytes int64
	// OldestAge is how long the oldest of them has waited.
	OldestAge time.Duration
	// Queued, Delivered, Retried, DeadLettered, Duplicates and Rejected
	// count what the spools did since the process started: entries
	// written, delivered (2xx), attempts that failed and will be retried,
	// entries given up after maxAge, platform retries not spooled again,
	// and callbacks refused because the spool was full or could not write.
	Queued, Delivered, Retried, DeadLettered, Duplicates, Rejected int64
}

// Spools returns the totals of every open spool, for metrics.
func Spools() SpoolStats {
	spools.Lock()
	open := make([]*spool, 0, len(spools.byDir))
	for _, sp := range spools.byDir {
		open = append(open, sp)
	}
	spools.Unlock()
	var st SpoolStats
	now := time.Now().UnixMilli()
	for _, sp := range open {
		sp.mu.Lock()
		st.Depth += len(sp.pending)
		st.Bytes += sp.bytes
		if len(sp.pending) > 0 {
			if age := time.Duration(now-sp.pending[0].created) * time.Millisecond; age > st.OldestAge {
				st.OldestAge = age
			}
		}
		sp.mu.Unlock()
		st.Queued += sp.stats.queued.Load()
		st.Delivered += sp.stats.delivered.Load()
		st.Retried += sp.stats.retried.Load()
		st.DeadLettered += sp.stats.dead.Load()
		st.Duplicates += sp.stats.duplicates.Load()
		st.Rejected += sp.stats.rejected.Load()
	}
	return st
}
