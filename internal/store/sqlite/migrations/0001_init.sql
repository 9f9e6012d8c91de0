CREATE TABLE accounts (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	last_login    TEXT
);

CREATE TABLE authorizations (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	token_hash  TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	expires_at  TEXT
);
CREATE INDEX authorizations_account ON authorizations (account_id);

CREATE TABLE login_sessions (
	id          TEXT PRIMARY KEY,
	secret_hash TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	account_id  TEXT REFERENCES accounts (id) ON DELETE CASCADE,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL
);

CREATE TABLE apps (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	owner_id    TEXT NOT NULL REFERENCES accounts (id),
	region      TEXT NOT NULL,
	stack       TEXT NOT NULL,
	maintenance INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	released_at TEXT
);
CREATE INDEX apps_owner_id ON apps (owner_id, id);
CREATE INDEX apps_owner_name ON apps (owner_id, name);
CREATE INDEX apps_owner_updated ON apps (owner_id, updated_at, id);
