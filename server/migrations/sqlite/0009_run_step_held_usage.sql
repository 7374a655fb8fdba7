-- A tool-call step shows `usage: null` while its run waits for tool outputs, yet the
-- tokens of the model turn behind it must survive until the outputs arrive (even
-- across a restart): they wait here and move into the document when the step completes.

ALTER TABLE run_steps ADD COLUMN held_usage TEXT;
