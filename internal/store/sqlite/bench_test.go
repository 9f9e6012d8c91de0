package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// BenchmarkAppService_FindApps lists the apps of an account that has 1,000
// of them: the default first page and a full page of all of them.
func BenchmarkAppService_FindApps(b *testing.B) {
	const nApps = 1000
	db := newDB(b)
	acct, err := sqlite.NewAccountService(db).CreateAccount(context.Background(), "bench@example.com", "benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	// Another account's apps, which the listing must skip.
	other, err := sqlite.NewAccountService(db).CreateAccount(context.Background(), "other@example.com", "benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	apps := sqlite.NewAppService(db)
	ctx := bulut.NewContextWithAccount(context.Background(), acct)
	for i := range nApps {
		if _, err := apps.CreateApp(ctx, fmt.Sprintf("app-%04d", i)); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			if _, err := apps.CreateApp(bulut.NewContextWithAccount(context.Background(), other), fmt.Sprintf("other-%04d", i)); err != nil {
				b.Fatal(err)
			}
		}
	}

	for _, bc := range []struct {
		name  string
		field string
		max   int
	}{
		{"name/200", "name", bulut.DefaultPageSize},
		{"name/1000", "name", bulut.MaxPageSize},
		{"id/200", "id", bulut.DefaultPageSize},
		{"id/1000", "id", bulut.MaxPageSize},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := bulut.AppFilter{Range: bulut.ListRange{Field: bc.field, Max: bc.max}}
			b.ReportAllocs()
			for b.Loop() {
				got, more, err := apps.FindApps(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != bc.max || more != (bc.max < nApps) {
					b.Fatalf("got %d apps, more %v", len(got), more)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bc.max), "ns/app")
		})
	}
}

// BenchmarkReleaseService lists the releases of an app that has 1,000 of
// them (with a few config vars each), as `bulut releases` and the CLI's
// current-version lookup do, and measures making a release.
func BenchmarkReleaseService(b *testing.B) {
	const nReleases = 1000
	db := newDB(b)
	acct, err := sqlite.NewAccountService(db).CreateAccount(context.Background(), "bench@example.com", "benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	ctx := bulut.NewContextWithAccount(context.Background(), acct)
	if _, err := sqlite.NewAppService(db).CreateApp(ctx, "bench-app"); err != nil {
		b.Fatal(err)
	}
	configVars, releases := sqlite.NewConfigVarService(db), sqlite.NewReleaseService(db)
	for i := 1; i < nReleases; i++ {
		v := fmt.Sprint(i)
		if _, _, err := configVars.UpdateConfigVars(ctx, "bench-app", map[string]*string{fmt.Sprintf("VAR_%d", i%10): &v}); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		r    bulut.ListRange
		want int
	}{
		{"current", bulut.ListRange{Field: "version", Max: 1, Desc: true}, 1},
		{"page15", bulut.ListRange{Field: "version", Max: 15, Desc: true}, 15},
		{"all1000", bulut.ListRange{Field: "version", Max: bulut.MaxPageSize}, nReleases},
	} {
		b.Run("FindReleases/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, _, err := releases.FindReleases(ctx, "bench-app", bc.r)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != bc.want {
					b.Fatalf("got %d releases", len(got))
				}
			}
		})
	}
	b.Run("UpdateConfigVars", func(b *testing.B) {
		v := "x"
		for b.Loop() {
			if _, _, err := configVars.UpdateConfigVars(ctx, "bench-app", map[string]*string{"BENCH": &v}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
