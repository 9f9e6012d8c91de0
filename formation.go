package bulut

import (
	"context"
	"strings"
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

// Sizes lists the dyno sizes and their memory quotas, in MB.
var Sizes = map[string]int{
	SizeFree: 512, SizeBasic: 512, SizeStandard1X: 512, SizeStandard2X: 1024, SizePerformance: 2560,
}

// DisplaySize writes a dyno size as Heroku's API and CLI show it:
// "free" -> "Free", "standard-1x" -> "Standard-1X", "performance-m" ->
// "Performance-M".
func DisplaySize(size string) string {
	parts := strings.Split(size, "-")
	for i, p := range parts {
		switch {
		case p == "":
		case i == 0:
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		default:
			parts[i] = strings.ToUpper(p)
		}
	}
	return strings.Join(parts, "-")
}

// FormationUpdate changes one process type: its quantity (absolute, or
// relative with Delta as `web+1` asks) and/or its size.
type FormationUpdate struct {
	Type     string
	Quantity *int
	Delta    *int
	Size     *string
}

// FormationService reads and scales apps' formations.
type FormationService interface {
	// FindFormation returns an app's process types, sorted by type.
	FindFormation(ctx context.Context, app string) ([]*Formation, error)

	// UpdateFormation applies updates atomically and returns the whole
	// formation. ENOTFOUND for a type the app's current release doesn't
	// have; EINVALID for a negative quantity or an unknown size (nothing
	// changed).
	UpdateFormation(ctx context.Context, app string, updates []FormationUpdate) ([]*Formation, error)
}
