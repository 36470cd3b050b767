-- Version 6: the device an alert is about, so "this wasn't me" can revoke it in one step.
ALTER TABLE alerts ADD COLUMN device_id TEXT;
