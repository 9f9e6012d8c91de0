package cli

import (
	"os"
	"path/filepath"
	"testing"
)

const sampleNetrc = `# my machines
machine example.com
  login bob
  password hunter2
macdef init
machine inside-macro login x password y

machine 127.0.0.1 login old@example.com password old-token

machine "quoted host" login "a \"b\"" password p # trailing comment
default login anonymous password guest
`

func TestParseNetrc(t *testing.T) {
	n := parseNetrc(sampleNetrc)
	if got := n.String(); got != sampleNetrc {
		t.Fatalf("text changed without edits:\n%s", got)
	}
	for host, want := range map[string][2]string{
		"example.com": {"bob", "hunter2"},
		"127.0.0.1":   {"old@example.com", "old-token"},
		"quoted host": {`a "b"`, "p"},
	} {
		e := n.lookup(host)
		if e == nil || e.login != want[0] || e.password != want[1] {
			t.Errorf("lookup(%q) = %+v, want %v", host, e, want)
		}
	}
	if e := n.lookup("inside-macro"); e != nil {
		t.Errorf("a macro's body was read as an entry: %+v", e)
	}
}

func TestNetrc_Set(t *testing.T) {
	t.Run("ReplacesAndKeepsOthers", func(t *testing.T) {
		n := parseNetrc(sampleNetrc)
		n.set("127.0.0.1", "new@example.com", "new-token")
		n.set("git.localhost", "new@example.com", "new-token")
		want := `# my machines
machine example.com
  login bob
  password hunter2
macdef init
machine inside-macro login x password y

machine 127.0.0.1
  login new@example.com
  password new-token
machine "quoted host" login "a \"b\"" password p # trailing comment
machine git.localhost
  login new@example.com
  password new-token
default login anonymous password guest
`
		if got := n.String(); got != want {
			t.Fatalf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("DropsDuplicates", func(t *testing.T) {
		n := parseNetrc("machine h login a password 1\nmachine h login b password 2\n")
		n.set("h", "c", "3")
		if got, want := n.String(), "machine h\n  login c\n  password 3\n"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("AfterTextWithoutNewline", func(t *testing.T) {
		n := parseNetrc("machine a login b password c")
		n.set("d", "e", "f")
		if got, want := n.String(), "machine a login b password c\nmachine d\n  login e\n  password f\n"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestNetrc_Remove(t *testing.T) {
	n := parseNetrc(sampleNetrc)
	n.remove(func(e *netrcEntry) bool { return e.machine == "127.0.0.1" })
	want := `# my machines
machine example.com
  login bob
  password hunter2
macdef init
machine inside-macro login x password y

machine "quoted host" login "a \"b\"" password p # trailing comment
default login anonymous password guest
`
	if got := n.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestNetrc_Save(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".netrc")
	if err := os.WriteFile(path, []byte("machine a login b password c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := readNetrc(path)
	if err != nil {
		t.Fatal(err)
	}
	n.set("d", "e", "f")
	if err := n.save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := readNetrc(path)
	if err != nil || again.lookup("a") == nil || again.lookup("d") == nil {
		t.Fatalf("read back %+v, %v", again, err)
	}
	missing, err := readNetrc(filepath.Join(t.TempDir(), "none"))
	if err != nil || len(missing.entries) != 0 {
		t.Fatalf("missing file: %+v, %v", missing, err)
	}
}
