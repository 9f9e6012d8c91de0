package server

import (
	"context"

	"github.com/bulut-bulut/bulut"
)

// The services below wrap the store's so that every change to what should
// run (a release, a config change, a scaling, a deleted app) tells the
// scheduler, whoever makes it: the API, the builder or the dashboard.

type reconcilingReleases struct {
	bulut.ReleaseService
	r bulut.Reconciler
}

func (s reconcilingReleases) CreateRelease(ctx context.Context, app, slugID, description string) (*bulut.Release, error) {
	return s.notify(s.ReleaseService.CreateRelease(ctx, app, slugID, description))
}

func (s reconcilingReleases) Rollback(ctx context.Context, app, idOrVersion string) (*bulut.Release, error) {
	return s.notify(s.ReleaseService.Rollback(ctx, app, idOrVersion))
}

func (s reconcilingReleases) notify(rel *bulut.Release, err error) (*bulut.Release, error) {
	if err == nil {
		s.r.Reconcile(rel.AppID)
	}
	return rel, err
}

type reconcilingConfigVars struct {
	bulut.ConfigVarService
	r bulut.Reconciler
}

func (s reconcilingConfigVars) UpdateConfigVars(ctx context.Context, app string, patch map[string]*string) (map[string]string, *bulut.Release, error) {
	vars, rel, err := s.ConfigVarService.UpdateConfigVars(ctx, app, patch)
	if err == nil && rel != nil {
		s.r.Reconcile(rel.AppID)
	}
	return vars, rel, err
}

type reconcilingFormations struct {
	bulut.FormationService
	r bulut.Reconciler
}

func (s reconcilingFormations) UpdateFormation(ctx context.Context, app string, updates []bulut.FormationUpdate) ([]*bulut.Formation, error) {
	f, err := s.FormationService.UpdateFormation(ctx, app, updates)
	if err == nil && len(f) > 0 {
		s.r.Reconcile(f[0].AppID)
	}
	return f, err
}

// reconcilingApps also removes a deleted app's git repository.
type reconcilingApps struct {
	bulut.AppService
	r       bulut.Reconciler
	deleted func(ctx context.Context, appID string) error
}

func (s reconcilingApps) DeleteApp(ctx context.Context, idOrName string) (*bulut.App, error) {
	app, err := s.AppService.DeleteApp(ctx, idOrName)
	if err == nil {
		s.r.Reconcile(app.ID)
		s.deleted(ctx, app.ID)
	}
	return app, err
}

// reconciling wraps the services that change what should run.
func reconciling(s bulut.Services, r bulut.Reconciler, appDeleted func(ctx context.Context, appID string) error) bulut.Services {
	s.Apps = reconcilingApps{AppService: s.Apps, r: r, deleted: appDeleted}
	s.Releases = reconcilingReleases{ReleaseService: s.Releases, r: r}
	s.ConfigVars = reconcilingConfigVars{ConfigVarService: s.ConfigVars, r: r}
	s.Formations = reconcilingFormations{FormationService: s.Formations, r: r}
	return s
}
