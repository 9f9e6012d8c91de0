package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/bulut-bulut/bulut"
)

// The services below wrap the store's so that every change to what should
// run (a release, a config change, a scaling, a deleted app) tells the
// scheduler, and lands in the app's log stream as app[api] lines (as
// Heroku's "Release v3 created by EMAIL"), whoever makes it: the API, the
// builder or the dashboard.

// apiLog writes app[api] lines to an app's log stream.
type apiLog struct{ logs bulut.LogSink }

func (l apiLog) line(appID, text string) {
	if l.logs != nil {
		l.logs.Log(appID, bulut.LogLine{Source: bulut.SourceApp, Process: "api", Text: text})
	}
}

// released logs a new release: what it does, then its creation.
func (l apiLog) released(rel *bulut.Release) {
	l.line(rel.AppID, rel.Description+" by "+rel.UserEmail)
	l.line(rel.AppID, fmt.Sprintf("Release v%d created by %s", rel.Version, rel.UserEmail))
}

type reconcilingReleases struct {
	bulut.ReleaseService
	r   bulut.Reconciler
	log apiLog
}

func (s reconcilingReleases) CreateRelease(ctx context.Context, app, slugID, description string) (*bulut.Release, error) {
	return s.notify(s.ReleaseService.CreateRelease(ctx, app, slugID, description))
}

func (s reconcilingReleases) Rollback(ctx context.Context, app, idOrVersion string) (*bulut.Release, error) {
	return s.notify(s.ReleaseService.Rollback(ctx, app, idOrVersion))
}

func (s reconcilingReleases) notify(rel *bulut.Release, err error) (*bulut.Release, error) {
	if err == nil {
		s.log.released(rel)
		s.r.Reconcile(rel.AppID)
	}
	return rel, err
}

type reconcilingConfigVars struct {
	bulut.ConfigVarService
	r   bulut.Reconciler
	log apiLog
}

func (s reconcilingConfigVars) UpdateConfigVars(ctx context.Context, app string, patch map[string]*string) (map[string]string, *bulut.Release, error) {
	vars, rel, err := s.ConfigVarService.UpdateConfigVars(ctx, app, patch)
	if err == nil && rel != nil {
		s.log.released(rel)
		s.r.Reconcile(rel.AppID)
	}
	return vars, rel, err
}

type reconcilingFormations struct {
	bulut.FormationService
	r   bulut.Reconciler
	log apiLog
}

func (s reconcilingFormations) UpdateFormation(ctx context.Context, app string, updates []bulut.FormationUpdate) ([]*bulut.Formation, error) {
	f, err := s.FormationService.UpdateFormation(ctx, app, updates)
	if err == nil && len(f) > 0 {
		s.log.scaled(ctx, f, updates)
		s.r.Reconcile(f[0].AppID)
	}
	return f, err
}

// scaled logs a scaling as Heroku does: "Scaled to web@2:Free by EMAIL".
func (l apiLog) scaled(ctx context.Context, formation []*bulut.Formation, updates []bulut.FormationUpdate) {
	changed := map[string]bool{}
	for _, u := range updates {
		changed[u.Type] = true
	}
	var parts []string
	for _, f := range formation {
		if changed[f.Type] {
			parts = append(parts, fmt.Sprintf("%s@%d:%s", f.Type, f.Quantity, bulut.DisplaySize(f.Size)))
		}
	}
	who := "bulut"
	if a := bulut.AccountFromContext(ctx); a != nil {
		who = a.Email
	}
	l.line(formation[0].AppID, "Scaled to "+strings.Join(parts, " ")+" by "+who)
}

// reconcilingApps also removes a deleted app's git repository.
type reconcilingApps struct {
	bulut.AppService
	r       bulut.Reconciler
	log     apiLog
	deleted func(ctx context.Context, appID string) error
}

// CreateApp logs the app's first release, as Heroku does.
func (s reconcilingApps) CreateApp(ctx context.Context, name string) (*bulut.App, error) {
	app, err := s.AppService.CreateApp(ctx, name)
	if err == nil {
		s.log.line(app.ID, "Initial release by "+app.OwnerEmail)
		s.log.line(app.ID, "Release v1 created by "+app.OwnerEmail)
	}
	return app, err
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
func reconciling(s bulut.Services, r bulut.Reconciler, logs bulut.LogSink, appDeleted func(ctx context.Context, appID string) error) bulut.Services {
	l := apiLog{logs}
	s.Apps = reconcilingApps{AppService: s.Apps, r: r, log: l, deleted: appDeleted}
	s.Releases = reconcilingReleases{ReleaseService: s.Releases, r: r, log: l}
	s.ConfigVars = reconcilingConfigVars{ConfigVarService: s.ConfigVars, r: r, log: l}
	s.Formations = reconcilingFormations{FormationService: s.Formations, r: r, log: l}
	return s
}
