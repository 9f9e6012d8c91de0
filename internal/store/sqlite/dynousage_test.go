package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
	"github.com/bulut-bulut/bulut/internal/store/storetest"
)

func TestDynoUsage(t *testing.T) {
	db := newDB(t)
	s := services(db)
	ctx := context.Background()
	acct, err := s.Accounts.CreateAccount(ctx, "alice@example.com", storetest.Password)
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Apps.CreateApp(bulut.NewContextWithAccount(ctx, acct), "my-app")
	if err != nil {
		t.Fatal(err)
	}
	u := sqlite.NewDynoUsageService(db)
	dec := bulut.UsageMonth(time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC))
	if dec != "2026-12" {
		t.Fatalf("UsageMonth = %q", dec)
	}
	if got, err := u.FindDynoUsage(ctx, app.ID, dec); err != nil || got.Seconds != 0 {
		t.Fatalf("no usage yet: %+v %v", got, err)
	}
	for _, n := range []int64{60, 3600, 1} {
		if err := u.AddDynoUsage(ctx, app.ID, dec, n); err != nil {
			t.Fatal(err)
		}
	}
	u.AddDynoUsage(ctx, app.ID, "2027-01", 5)
	if got, err := u.FindDynoUsage(ctx, app.ID, dec); err != nil || got.Seconds != 3661 {
		t.Fatalf("December: %+v %v, want 3661 s", got, err)
	}
	if got, _ := u.FindDynoUsage(ctx, app.ID, "2027-01"); got.Seconds != 5 {
		t.Fatalf("January: %+v, want 5 s", got)
	}
	if err := u.AddDynoUsage(ctx, "nope", dec, 1); bulut.ErrorCode(err) != bulut.ENOTFOUND {
		t.Fatalf("unknown app: %v", err)
	}
	if err := u.AddDynoUsage(ctx, app.ID, dec, -1); bulut.ErrorCode(err) != bulut.EINVALID {
		t.Fatalf("negative: %v", err)
	}
	// The usage goes with the app.
	if _, err := s.Apps.DeleteApp(bulut.NewContextWithAccount(ctx, acct), app.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := u.FindDynoUsage(ctx, app.ID, dec); got.Seconds != 0 {
		t.Fatalf("after deletion: %+v", got)
	}
}
