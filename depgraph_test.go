package bulut_test

import (
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/bulut-bulut/bulut"

// leaves are helper packages with no project imports that any package
// except the root and client may use.
var leaves = []string{"internal/secret", "internal/sandbox", "internal/buildpacks", "internal/dynoinit", "internal/promtext"}

// components talk to each other only through the root package's
// interfaces, wired together by internal/server.
var components = []string{
	"internal/api", "internal/dashboard", "internal/router", "internal/store/sqlite",
	"internal/store/storetest", "internal/store/fsblob", "internal/gitreceive", "internal/builder",
	"internal/scheduler", "internal/runtime/local", "internal/logplex",
}

// allowedDeps lists, for each package of the module (relative path; ""
// is the root), the module's packages it may depend on, directly or not.
// A package missing here fails the test: place it in the layers first.
func allowedDeps() map[string][]string {
	rules := map[string][]string{
		"":                    {},
		"client":              {""},
		"internal/config":     {},
		"internal/secret":     {},
		"internal/sandbox":    {},
		"internal/buildpacks": {},
		"internal/dynoinit":   {},
		"internal/promtext":   {},
		"internal/cli":        {"", "client", "internal/config"},
	}
	for _, c := range components {
		rules[c] = append([]string{"", "internal/runtime"}, leaves...)
	}
	// The runtime contract: what the scheduler and the backends share.
	rules["internal/runtime"] = []string{""}
	everything := append(append([]string{"", "internal/config", "internal/runtime"}, leaves...), components...)
	rules["internal/server"] = everything
	rules["internal/testenv"] = append(everything, "internal/server")
	rules["cmd/bulut"] = append(everything, "internal/server", "internal/cli", "client")
	rules["bench"] = append(everything, "internal/server", "internal/testenv")
	rules["bench/router/proxy"] = everything // the router alone, on a store
	rules["bench/router/upstream"] = []string{}
	// Tools run by tests and benchmarks, not part of the binary.
	rules["internal/store/storetest"] = []string{""}
	rules["internal/testwheels"] = []string{}
	return rules
}

// TestImportRules enforces DESIGN.md's layers with `go list -deps`.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rules := allowedDeps()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := rel(fields[0])
		allowed, ok := rules[pkg]
		if !ok {
			t.Errorf("package %q has no import rule: add it to allowedDeps in depgraph_test.go", pkg)
			continue
		}
		for _, dep := range fields[1:] {
			if dep != module && !strings.HasPrefix(dep, module+"/") {
				continue
			}
			if d := rel(dep); !slices.Contains(allowed, d) {
				t.Errorf("%s must not depend on %s (allowed: %q)", show(pkg), show(d), allowed)
			}
		}
	}
}

// TestRootImportsOnlyStdlib keeps the domain free of third-party code.
func TestRootImportsOnlyStdlib(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("the root package imports %s: it may use the standard library only", imp)
		}
	}
}

func rel(p string) string {
	if p == module {
		return ""
	}
	return strings.TrimPrefix(p, module+"/")
}

func show(p string) string {
	if p == "" {
		return "the root package"
	}
	return path.Clean(p)
}
