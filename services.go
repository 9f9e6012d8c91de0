package bulut

// Services bundles the domain services the platform's front ends (the
// API, the dashboard) work on; internal/server builds it once.
type Services struct {
	Accounts       AccountService
	Authorizations AuthorizationService
	LoginSessions  LoginSessionService
	Apps           AppService
	Releases       ReleaseService
	ConfigVars     ConfigVarService
	Slugs          SlugService
	Builds         BuildService
	Formations     FormationService
	Buildpacks     BuildpackService
	Dynos          DynoService
	LogDrains      LogDrainService
	Domains        DomainService
	Logs           LogService
}
