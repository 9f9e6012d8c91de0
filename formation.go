package bulut

import (
	"context"
	"time"
)

// Dyno sizes. Free dynos sleep when idle.
const (
	SizeFree        = "free"
	SizeBasic       = "basic"
	SizeStandard1X  = "standard-1x"
	SizeStandard2X  = "standard-2x"
	SizePerformance = "performance-m"
)

// Formation is how many dynos of a process type an app runs, and of which
// size. Command comes from the current release's slug.
type Formation struct {
	ID        string
	AppID     string
	Type      string
	Command   string
	Quantity  int
	Size      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FormationService reads apps' formations (scaling comes with the dyno
// manager).
type FormationService interface {
	// FindFormation returns an app's process types, sorted by type.
	FindFormation(ctx context.Context, app string) ([]*Formation, error)
}
