-- Log drains: where an app's log stream is also sent (syslog, HTTPS).
-- A drain belongs to an app and goes with it.

CREATE TABLE log_drains (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	url        TEXT NOT NULL,
	token      TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (app_id, url)
);
