-- How many times a worker has started (or resumed) the current model turn of a run:
-- incremented before the model is called, cleared when the run rests waiting for tool
-- outputs. A run whose turn takes the process down is resumed by every restart; this
-- count lets recovery end it `failed` after a few attempts instead of forever.

ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
