-- Free dyno hours: the seconds an app's free dynos ran (not asleep) in
-- each calendar month (UTC, "2026-12"). The usage goes with the app.

CREATE TABLE dyno_usage (
	app_id  TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	month   TEXT NOT NULL,
	seconds INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (app_id, month)
);
