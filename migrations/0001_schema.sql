-- apiforge schema, security model included.
--
-- Two roles: apiforge_owner owns every object here and runs migrations and daemons
-- (worker, mailer, gateway); apiforge_client is what interactive sessions use. The
-- client role holds no ownership and no BYPASSRLS: every user-owned table has row-level
-- security enabled AND forced, with one policy per command keyed on the current user,
-- who is resolved inside Postgres from the session token the client sets per
-- transaction:   select set_config('apiforge.session', <token>, true)
-- apiforge_current_user() hashes that token (SHA-256) and looks it up in sessions
-- (SECURITY DEFINER, search_path pinned); the client role cannot read sessions or
-- login_codes at all.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'apiforge_client') THEN
        -- On a shared server the administrator normally creates this login role; create
        -- it (without login) when the owner may, so policies can name it.
        CREATE ROLE apiforge_client NOLOGIN NOBYPASSRLS;
    END IF;
END
$roles$;


REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO apiforge_client;

-- ---------------------------------------------------------------------------------
-- Identity
-- ---------------------------------------------------------------------------------

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    -- Set for users signed in automatically as a local OS user (embedded mode).
    os_user       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_os_user_key ON users (os_user) WHERE os_user IS NOT NULL;

CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the 256-bit random token; the raw token is never stored.
    token_hash    bytea NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('local', 'magic_link')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CONSTRAINT sessions_token_hash_len CHECK (octet_length(token_hash) = 32),
    CONSTRAINT sessions_expiry CHECK (expires_at > created_at)
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE login_codes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email = lower(email)),
    code_hash     bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    CONSTRAINT login_codes_expiry CHECK (expires_at > created_at)
);
-- Rate limiting counts recent codes per address.
CREATE INDEX login_codes_email_created_idx ON login_codes (email, created_at DESC);

-- The user id for the session token set in this transaction, or NULL when the token is
-- missing, unknown, revoked or expired.
CREATE FUNCTION apiforge_current_user() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.user_id
    FROM public.sessions AS s
    WHERE s.token_hash = sha256(convert_to(nullif(current_setting('apiforge.session', true), ''), 'UTF8'))
      AND s.revoked_at IS NULL
      AND s.expires_at > now()
$$;
REVOKE ALL ON FUNCTION apiforge_current_user() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION apiforge_current_user() TO apiforge_client;

-- ---------------------------------------------------------------------------------
-- Projects and versions
-- ---------------------------------------------------------------------------------

CREATE TABLE projects (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id        uuid NOT NULL DEFAULT apiforge_current_user() REFERENCES users (id) ON DELETE CASCADE,
    slug            text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '',
    framework       text NOT NULL CHECK (framework IN ('fastapi', 'express')),
    provider        text NOT NULL DEFAULT 'rules',
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'running', 'passing', 'failing', 'deployed')),
    latest_version  integer CHECK (latest_version > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_owner_slug_key UNIQUE (owner_id, slug),
    -- Lets child tables reference (project, owner) so a row can never point at
    -- another user's project.
    CONSTRAINT projects_id_owner_key UNIQUE (id, owner_id)
);
CREATE INDEX projects_owner_updated_idx ON projects (owner_id, updated_at DESC);

CREATE TABLE blobs (
    owner_id    uuid NOT NULL DEFAULT apiforge_current_user() REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of content; content-addressed per owner so identical files are stored
    -- once without revealing to anyone else that a content exists.
    hash        bytea NOT NULL CHECK (octet_length(hash) = 32),
    size        integer NOT NULL CHECK (size >= 0),
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, hash),
    CONSTRAINT blobs_size_matches CHECK (size = octet_length(content))
);

CREATE TABLE versions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid NOT NULL,
    owner_id      uuid NOT NULL DEFAULT apiforge_current_user(),
    number        integer NOT NULL CHECK (number > 0),
    parent_id     uuid REFERENCES versions (id) ON DELETE SET NULL,
    origin        text NOT NULL CHECK (origin IN ('generate', 'iterate', 'edit', 'restore', 'import', 'sync')),
    prompt        text NOT NULL DEFAULT '',
    design        jsonb NOT NULL,
    spec          jsonb NOT NULL,
    framework     text NOT NULL CHECK (framework IN ('fastapi', 'express')),
    check_status  text NOT NULL DEFAULT 'untested'
                  CHECK (check_status IN ('untested', 'passing', 'failing')),
    git_commit    text,
    created_by    uuid NOT NULL DEFAULT apiforge_current_user() REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT versions_project_number_key UNIQUE (project_id, number),
    CONSTRAINT versions_id_owner_key UNIQUE (id, owner_id),
    CONSTRAINT versions_project_owner_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX versions_owner_idx ON versions (owner_id);
CREATE INDEX versions_parent_idx ON versions (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE version_files (
    version_id  uuid NOT NULL,
    owner_id    uuid NOT NULL DEFAULT apiforge_current_user(),
    path        text NOT NULL CHECK (path <> '' AND path !~ '(^/|(^|/)\.\.(/|$))'),
    blob_hash   bytea NOT NULL,
    -- True when the file was generated (not hand-edited) in this version.
    generated   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (version_id, path),
    CONSTRAINT version_files_version_fkey FOREIGN KEY (version_id, owner_id)
        REFERENCES versions (id, owner_id) ON DELETE CASCADE,
    CONSTRAINT version_files_blob_fkey FOREIGN KEY (owner_id, blob_hash)
        REFERENCES blobs (owner_id, hash)
);
CREATE INDEX version_files_owner_idx ON version_files (owner_id);
CREATE INDEX version_files_blob_idx ON version_files (owner_id, blob_hash);

-- ---------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------

CREATE TABLE jobs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id          uuid NOT NULL DEFAULT apiforge_current_user() REFERENCES users (id) ON DELETE CASCADE,
    project_id        uuid,
    kind              text NOT NULL,
    state             text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input             jsonb NOT NULL DEFAULT '{}',
    output            jsonb,
    error             text,
    idempotency_key   text,
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_after         timestamptz NOT NULL DEFAULT now(),
    lease_owner       text,
    lease_expires_at  timestamptz,
    cancel_requested  boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    CONSTRAINT jobs_id_owner_key UNIQUE (id, owner_id),
    CONSTRAINT jobs_project_owner_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    CONSTRAINT jobs_finished CHECK ((state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE UNIQUE INDEX jobs_owner_idempotency_key ON jobs (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- The queue scan: runnable jobs in order.
CREATE INDEX jobs_queue_idx ON jobs (run_after, id) WHERE state = 'queued';
-- Expired leases to take over.
CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_owner_created_idx ON jobs (owner_id, created_at DESC);
CREATE INDEX jobs_project_idx ON jobs (project_id) WHERE project_id IS NOT NULL;

CREATE TABLE job_steps (
    job_id       bigint NOT NULL,
    owner_id     uuid NOT NULL DEFAULT apiforge_current_user(),
    name         text NOT NULL,
    seq          integer NOT NULL CHECK (seq >= 0),
    state        text NOT NULL DEFAULT 'running'
                 CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled')),
    attempts     integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    output       jsonb,
    error        text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (job_id, name),
    CONSTRAINT job_steps_job_fkey FOREIGN KEY (job_id, owner_id)
        REFERENCES jobs (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX job_steps_owner_idx ON job_steps (owner_id);

CREATE TABLE job_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id    bigint NOT NULL,
    owner_id  uuid NOT NULL DEFAULT apiforge_current_user(),
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind      text NOT NULL CHECK (kind IN ('job_started', 'job_finished', 'step_started', 'step_finished', 'log')),
    step      text,
    level     text NOT NULL DEFAULT 'info' CHECK (level IN ('debug', 'info', 'warn', 'error')),
    message   text NOT NULL DEFAULT '',
    data      jsonb,
    CONSTRAINT job_events_job_fkey FOREIGN KEY (job_id, owner_id)
        REFERENCES jobs (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);
CREATE INDEX job_events_owner_idx ON job_events (owner_id, id);

-- ---------------------------------------------------------------------------------
-- Tests, deployments, git
-- ---------------------------------------------------------------------------------

CREATE TABLE test_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    version_id   uuid NOT NULL,
    owner_id     uuid NOT NULL DEFAULT apiforge_current_user(),
    job_id       bigint,
    sandbox      text NOT NULL CHECK (sandbox IN ('process', 'docker')),
    passed       integer NOT NULL DEFAULT 0 CHECK (passed >= 0),
    failed       integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    skipped      integer NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    report       jsonb NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    CONSTRAINT test_runs_version_fkey FOREIGN KEY (version_id, owner_id)
        REFERENCES versions (id, owner_id) ON DELETE CASCADE,
    CONSTRAINT test_runs_job_fkey FOREIGN KEY (job_id, owner_id)
        REFERENCES jobs (id, owner_id) ON DELETE SET NULL (job_id)
);
CREATE INDEX test_runs_version_idx ON test_runs (version_id, finished_at DESC);
CREATE INDEX test_runs_owner_idx ON test_runs (owner_id);

CREATE TABLE deployments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id   uuid NOT NULL,
    owner_id     uuid NOT NULL DEFAULT apiforge_current_user(),
    version_id   uuid NOT NULL,
    state        text NOT NULL CHECK (state IN ('starting', 'live', 'draining', 'stopped', 'failed')),
    target       text NOT NULL DEFAULT 'sandbox' CHECK (target IN ('sandbox', 'docker')),
    route        text NOT NULL,
    instance     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deployments_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE,
    CONSTRAINT deployments_version_fkey FOREIGN KEY (version_id, owner_id)
        REFERENCES versions (id, owner_id) ON DELETE CASCADE
);
-- At most one live deployment per project.
CREATE UNIQUE INDEX deployments_live_key ON deployments (project_id) WHERE state = 'live';
CREATE INDEX deployments_owner_idx ON deployments (owner_id);
CREATE INDEX deployments_project_idx ON deployments (project_id, created_at DESC);

CREATE TABLE git_remotes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid NOT NULL,
    owner_id      uuid NOT NULL DEFAULT apiforge_current_user(),
    name          text NOT NULL DEFAULT 'origin' CHECK (name ~ '^[A-Za-z0-9._-]+$'),
    url           text NOT NULL CHECK (url <> ''),
    branch        text NOT NULL DEFAULT 'main',
    last_push_at  timestamptz,
    last_pull_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT git_remotes_project_name_key UNIQUE (project_id, name),
    CONSTRAINT git_remotes_project_fkey FOREIGN KEY (project_id, owner_id)
        REFERENCES projects (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX git_remotes_owner_idx ON git_remotes (owner_id);

-- ---------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------

-- users: a person sees and renames only themself; rows are created by the owner role
-- (sign-in), never by clients.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_select ON users FOR SELECT TO apiforge_client
    USING (id = (SELECT apiforge_current_user()));
CREATE POLICY users_update ON users FOR UPDATE TO apiforge_client
    USING (id = (SELECT apiforge_current_user()))
    WITH CHECK (id = (SELECT apiforge_current_user()));
CREATE POLICY users_daemon ON users TO apiforge_owner USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE (display_name) ON users TO apiforge_client;

-- The same four client policies, plus the daemons' policy, on every user-owned table.
DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['projects', 'blobs', 'versions', 'version_files', 'jobs',
                             'job_steps', 'job_events', 'test_runs', 'deployments',
                             'git_remotes']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO apiforge_client
                            USING (owner_id = (SELECT apiforge_current_user()))', t || '_select', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT TO apiforge_client
                            WITH CHECK (owner_id = (SELECT apiforge_current_user()))', t || '_insert', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE TO apiforge_client
                            USING (owner_id = (SELECT apiforge_current_user()))
                            WITH CHECK (owner_id = (SELECT apiforge_current_user()))', t || '_update', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE TO apiforge_client
                            USING (owner_id = (SELECT apiforge_current_user()))', t || '_delete', t);
        -- Daemons (worker, mailer, gateway) act for every user.
        EXECUTE format('CREATE POLICY %I ON %I TO apiforge_owner USING (true) WITH CHECK (true)',
                       t || '_daemon', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO apiforge_client', t);
    END LOOP;
END
$rls$;

GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO apiforge_client;

-- sessions and login_codes: no privilege at all for clients (no RLS needed; only the
-- owner role and the SECURITY DEFINER function above touch them).
REVOKE ALL ON sessions, login_codes FROM PUBLIC, apiforge_client;
