package sandbox

import (
	"io"
	"os"
	"os/exec"
	"time"
)

// copyGrace is how long Wait lets output copying finish after the
// sandbox's processes are gone (something that escaped the kill may still
// hold a pipe open).
const copyGrace = 2 * time.Second

// setupIO gives the command its stdin, stdout and stderr. Writers that are
// not files get a pipe copied by a goroutine Start launches: exec.Cmd's
// own copying would make Wait hang on a background process holding the
// pipe, while here Wait first kills what is left in the sandbox.
func (c *Cmd) setupIO(cmd *exec.Cmd) error {
	switch in := c.Stdin.(type) {
	case nil:
	case *os.File:
		cmd.Stdin = in
	default:
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		cmd.Stdin = r
		c.childEnds = append(c.childEnds, r)
		c.parentEnds = append(c.parentEnds, w) // closed after Wait, or if Start fails
		c.copiers = append(c.copiers, func() {
			io.Copy(w, in)
			w.Close()
		})
	}
	out, err := c.writerFile(c.Stdout)
	if err != nil {
		return err
	}
	cmd.Stdout = out
	if sameWriter(c.Stdout, c.Stderr) {
		cmd.Stderr = out
	} else if cmd.Stderr, err = c.writerFile(c.Stderr); err != nil {
		return err
	}
	return nil
}

// writerFile returns the file the child writes to for w.
func (c *Cmd) writerFile(w io.Writer) (*os.File, error) {
	switch w := w.(type) {
	case nil:
		return nil, nil
	case *os.File:
		return w, nil
	}
	r, wf, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.childEnds = append(c.childEnds, wf)
	c.parentEnds = append(c.parentEnds, r)
	c.copying.Add(1)
	c.copiers = append(c.copiers, func() {
		defer c.copying.Done()
		io.Copy(w, r)
	})
	return wf, nil
}

func sameWriter(a, b io.Writer) (same bool) {
	defer func() { recover() }() // uncomparable dynamic types
	return a != nil && a == b
}

// closeChildEnds closes the parent's copies of the pipe ends the child uses.
func (c *Cmd) closeChildEnds(cmd *exec.Cmd) {
	for _, f := range c.childEnds {
		f.Close()
	}
	c.childEnds = nil
}

func (c *Cmd) closeParentEnds() {
	for _, f := range c.parentEnds {
		f.Close()
	}
}

func (c *Cmd) startCopying() {
	for _, f := range c.copiers {
		go f()
	}
	c.copiers = nil
}

// waitCopying waits for the output to be copied, up to copyGrace.
func (c *Cmd) waitCopying() {
	done := make(chan struct{})
	go func() {
		c.copying.Wait()
		close(done)
	}()
	select {
	case <-done:
		c.closeParentEnds()
	case <-time.After(copyGrace):
		// Closing the read ends ends the copying: no write to the caller's
		// writers may happen after Wait returns.
		c.closeParentEnds()
		<-done
	}
}
