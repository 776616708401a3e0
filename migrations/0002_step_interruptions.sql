-- A step run that ends without an outcome (its worker died, lost its lease or shut
-- down) is an interruption, not a failed attempt: it is counted apart so a step
-- allowed one attempt still resumes, and bounded on its own.
ALTER TABLE job_steps
    ADD COLUMN interruptions integer NOT NULL DEFAULT 0 CHECK (interruptions >= 0);
ALTER TABLE job_steps DROP CONSTRAINT job_steps_state_check;
ALTER TABLE job_steps ADD CONSTRAINT job_steps_state_check
    CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted'));
