package logplex

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Each app's lines live in Dir/<app>.log: a magic header, then records
// appended by the flusher, each
//
//	uint32 body length | uint32 CRC-32 (IEEE) of the body | body
//
// all little endian, where the body is the time (varint Unix nanoseconds)
// and the source, process and text (each a uvarint length and bytes). A
// crash can leave a torn record at the end: loading stops there and cuts
// it off. When the file holds compactFactor times Lines records, it is
// rewritten with the last Lines.
const (
	fileMagic     = "bulut-logplex-1\n"
	fileExt       = ".log"
	compactFactor = 4
	maxRecord     = 1 << 20
)

func appendRecord(buf []byte, l bulut.LogLine) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0)
	buf = binary.AppendVarint(buf, l.Time.UnixNano())
	for _, s := range [...]string{l.Source, l.Process, l.Text} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	body := buf[start+8:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.ChecksumIEEE(body))
	return buf
}

// parseRecord reads the record at the start of b and returns it and its
// size, or ok false if there is no whole, valid record there.
func parseRecord(b []byte) (l bulut.LogLine, size int, ok bool) {
	if len(b) < 8 {
		return l, 0, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > maxRecord || len(b)-8 < n {
		return l, 0, false
	}
	body := b[8 : 8+n]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[4:]) {
		return l, 0, false
	}
	ns, k := binary.Varint(body)
	if k <= 0 {
		return l, 0, false
	}
	body = body[k:]
	var fields [3]string
	for i := range fields {
		m, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < m {
			return l, 0, false
		}
		fields[i] = string(body[k : k+int(m)])
		body = body[k+int(m):]
	}
	l = bulut.LogLine{Time: time.Unix(0, ns).UTC(), Source: fields[0], Process: fields[1], Text: fields[2]}
	return l, 8 + n, true
}

// fileName maps an app ID to its file name: as is when it is a plain name
// (app IDs are UUIDs), hex-encoded otherwise.
func fileName(appID string) string {
	plain := appID != "" && appID[0] != '.' && !strings.HasPrefix(appID, "x-")
	for i := 0; plain && i < len(appID); i++ {
		c := appID[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if plain {
		return appID + fileExt
	}
	return "x-" + hex.EncodeToString([]byte(appID)) + fileExt
}

func appIDFromFile(name string) (string, bool) {
	id, ok := strings.CutSuffix(name, fileExt)
	if !ok || id == "" {
		return "", false
	}
	if h, ok := strings.CutPrefix(id, "x-"); ok {
		b, err := hex.DecodeString(h)
		return string(b), err == nil && len(b) > 0
	}
	return id, true
}

// load reads every app's file in Dir.
func (l *Logplex) load() error {
	if err := os.MkdirAll(l.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("logplex: %w", err)
	}
	entries, err := os.ReadDir(l.cfg.Dir)
	if err != nil {
		return fmt.Errorf("logplex: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(l.cfg.Dir, name)) // an interrupted compaction
			continue
		}
		id, ok := appIDFromFile(name)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if err := l.loadApp(id, filepath.Join(l.cfg.Dir, name)); err != nil {
			l.log.Warn("load logs", "app", id, "error", err)
		}
	}
	return nil
}

func (l *Logplex) loadApp(id, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	q := newLineQueue(l.cfg.Lines)
	records, good := 0, 0
	if bytes.HasPrefix(b, []byte(fileMagic)) {
		good = len(fileMagic)
		for {
			line, n, ok := parseRecord(b[good:])
			if !ok {
				break
			}
			q.push(line)
			records++
			good += n
		}
	}
	a := l.app(id)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ring.n > 0 {
		// Lines logged before Open: they come after the loaded ones.
		for i := 0; i < a.ring.n; i++ {
			q.push(a.ring.at(i))
		}
	}
	a.ring = q
	a.total = uint64(q.n)
	a.firstSeq = a.total
	a.fileLines = records
	if good != len(b) {
		l.log.Warn("logs file cut at a torn or bad record", "app", id, "offset", good, "size", len(b))
		if good < len(fileMagic) {
			a.compact = true // not ours or its header is torn: rewrite it
		} else if err := os.Truncate(path, int64(good)); err != nil {
			a.compact = true
		}
	}
	return nil
}

// flusher writes new lines to disk every FlushInterval.
func (l *Logplex) flusher() {
	defer close(l.flushed)
	if l.cfg.Dir == "" {
		<-l.stopFlush
		return
	}
	tick := time.NewTicker(l.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if err := l.flushAll(); err != nil {
				l.log.Error("write logs", "error", err)
			}
		case <-l.stopFlush:
			l.flushErr = l.flushAll()
			return
		}
	}
}

// flushAll writes every app's new lines.
func (l *Logplex) flushAll() error {
	l.mu.RLock()
	apps := make([]*appLog, 0, len(l.apps))
	for _, a := range l.apps {
		apps = append(apps, a)
	}
	l.mu.RUnlock()
	var errs []error
	var buf []byte
	for _, a := range apps {
		var err error
		if buf, err = l.flushApp(a, buf[:0]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (l *Logplex) flushApp(a *appLog, buf []byte) ([]byte, error) {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	a.mu.Lock()
	if a.forgotten || !a.compact && len(a.pending) == 0 {
		a.mu.Unlock()
		return buf, nil
	}
	var lines []bulut.LogLine
	rewrite := a.compact || a.fileLines+len(a.pending) > compactFactor*l.cfg.Lines
	if rewrite {
		lines = a.ring.all()
		clear(a.pending)
		a.pending = a.pending[:0]
		a.compact = false
	} else {
		lines = a.pending
		a.pending = nil
	}
	a.mu.Unlock()

	for _, line := range lines {
		buf = appendRecord(buf, line)
	}
	path := filepath.Join(l.cfg.Dir, fileName(a.id))
	var err error
	if rewrite {
		err = writeFile(path, buf)
		a.fileLines = len(lines)
	} else {
		err = appendFile(path, buf)
		a.fileLines += len(lines)
		clear(lines)
		a.mu.Lock()
		if a.spare == nil {
			a.spare = lines[:0]
		}
		a.mu.Unlock()
	}
	if err != nil {
		// The ring still has the lines: write it whole next time.
		a.mu.Lock()
		a.compact = true
		a.mu.Unlock()
		return buf, fmt.Errorf("logplex: app %s: %w", a.id, err)
	}
	return buf, nil
}

func appendFile(path string, records []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return err
	} else if fi.Size() == 0 {
		records = append([]byte(fileMagic), records...)
	}
	_, err = f.Write(records)
	if err1 := f.Close(); err == nil {
		err = err1
	}
	return err
}

// writeFile replaces a file whole: a new file renamed over the old one.
func writeFile(path string, records []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(fileMagic))
	if err == nil {
		_, err = f.Write(records)
	}
	if err == nil {
		err = f.Sync()
	}
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func (l *Logplex) removeFile(appID string) {
	err := os.Remove(filepath.Join(l.cfg.Dir, fileName(appID)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.log.Warn("remove logs", "app", appID, "error", err)
	}
}
