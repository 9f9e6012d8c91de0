-- Custom domains: host names an app answers on besides its own. A host
-- name belongs to at most one app; a domain goes with its app.

CREATE TABLE domains (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	hostname   TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE INDEX domains_app ON domains (app_id, created_at);
