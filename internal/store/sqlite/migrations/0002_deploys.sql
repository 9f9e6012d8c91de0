-- Deploys: slugs, releases, config vars, builds, formation, buildpacks.
-- Everything belongs to an app and goes with it (ON DELETE CASCADE).

CREATE TABLE slugs (
	id                    TEXT PRIMARY KEY,
	app_id                TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	process_types         TEXT NOT NULL DEFAULT '{}', -- JSON object: type -> command
	commit_sha            TEXT NOT NULL DEFAULT '',
	commit_description    TEXT NOT NULL DEFAULT '',
	buildpack_description TEXT NOT NULL DEFAULT '',
	stack                 TEXT NOT NULL DEFAULT '',
	checksum              TEXT NOT NULL DEFAULT '',
	size                  INTEGER NOT NULL DEFAULT 0,
	created_at            TEXT NOT NULL
);
CREATE INDEX slugs_app ON slugs (app_id, id);

CREATE TABLE releases (
	id          TEXT PRIMARY KEY,
	app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	slug_id     TEXT REFERENCES slugs (id),
	status      TEXT NOT NULL,
	user_id     TEXT NOT NULL DEFAULT '',
	user_email  TEXT NOT NULL DEFAULT '',
	config_vars TEXT NOT NULL DEFAULT '{}', -- JSON object: the config at release time
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	UNIQUE (app_id, version)
);
CREATE INDEX releases_app_id ON releases (app_id, id);
-- The current release: the highest succeeded version.
CREATE INDEX releases_app_status_version ON releases (app_id, status, version);
CREATE INDEX releases_slug ON releases (slug_id) WHERE slug_id IS NOT NULL;

CREATE TABLE config_vars (
	app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (app_id, key)
) WITHOUT ROWID;

CREATE TABLE builds (
	id             TEXT PRIMARY KEY,
	app_id         TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	status         TEXT NOT NULL,
	source_version TEXT NOT NULL DEFAULT '',
	buildpacks     TEXT NOT NULL DEFAULT '[]', -- JSON array
	slug_id        TEXT REFERENCES slugs (id),
	release_id     TEXT REFERENCES releases (id),
	user_id        TEXT NOT NULL DEFAULT '',
	user_email     TEXT NOT NULL DEFAULT '',
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);
CREATE INDEX builds_app_created ON builds (app_id, created_at, id);
CREATE INDEX builds_app_id ON builds (app_id, id);
CREATE INDEX builds_slug ON builds (slug_id) WHERE slug_id IS NOT NULL;
CREATE INDEX builds_release ON builds (release_id) WHERE release_id IS NOT NULL;

CREATE TABLE formations (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	type       TEXT NOT NULL,
	quantity   INTEGER NOT NULL DEFAULT 0,
	size       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (app_id, type)
);

CREATE TABLE buildpack_installations (
	app_id  TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	ordinal INTEGER NOT NULL,
	url     TEXT NOT NULL,
	PRIMARY KEY (app_id, ordinal)
) WITHOUT ROWID;

-- Apps made before releases existed get their v1, as new apps do.
INSERT INTO releases (id, app_id, version, description, slug_id, status, user_id, user_email, config_vars, created_at, updated_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
		substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
	apps.id, 1, 'Initial release', NULL, 'succeeded', apps.owner_id, accounts.email, '{}', apps.created_at, apps.created_at
FROM apps JOIN accounts ON accounts.id = apps.owner_id;
