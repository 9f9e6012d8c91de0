package logplex

import "github.com/bulut-bulut/bulut"

// lineQueue is a FIFO of lines bounded at max: pushing onto a full queue
// overwrites the oldest line. Its storage grows on demand up to max, so an
// app or drain that logs little costs little.
type lineQueue struct {
	buf  []bulut.LogLine
	head int // index of the oldest line
	n    int
	max  int
}

func newLineQueue(max int) lineQueue { return lineQueue{max: max} }

// push appends l and reports whether the oldest line was dropped for it.
func (q *lineQueue) push(l bulut.LogLine) (dropped bool) {
	if q.n == q.max {
		q.buf[q.head] = l
		q.head++
		if q.head == len(q.buf) {
			q.head = 0
		}
		return true
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	i := q.head + q.n
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	q.buf[i] = l
	q.n++
	return false
}

func (q *lineQueue) grow() {
	c := min(max(2*len(q.buf), 64), q.max)
	buf := make([]bulut.LogLine, c)
	q.copyTo(buf)
	q.buf, q.head = buf, 0
}

// copyTo copies the lines, oldest first, into dst (which has room).
func (q *lineQueue) copyTo(dst []bulut.LogLine) {
	k := copy(dst, q.buf[q.head:min(q.head+q.n, len(q.buf))])
	copy(dst[k:q.n], q.buf[:q.n-k])
}

// at returns the i-th oldest line.
func (q *lineQueue) at(i int) bulut.LogLine {
	i += q.head
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	return q.buf[i]
}

// all returns a copy of the lines, oldest first.
func (q *lineQueue) all() []bulut.LogLine {
	out := make([]bulut.LogLine, q.n)
	q.copyTo(out)
	return out
}

// pop moves up to n of the oldest lines, and no more than maxBytes of text
// (but at least one line), onto dst.
func (q *lineQueue) pop(dst []bulut.LogLine, n, maxBytes int) []bulut.LogLine {
	size := 0
	for k := 0; q.n > 0 && k < n; k++ {
		l := q.buf[q.head]
		size += len(l.Text)
		if k > 0 && size > maxBytes {
			break
		}
		dst = append(dst, l)
		q.buf[q.head] = bulut.LogLine{} // let the text go
		q.head++
		if q.head == len(q.buf) {
			q.head = 0
		}
		q.n--
	}
	return dst
}

// reset empties the queue and releases its storage.
func (q *lineQueue) reset() { q.buf, q.head, q.n = nil, 0, 0 }
