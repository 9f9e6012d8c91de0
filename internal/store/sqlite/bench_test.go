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
