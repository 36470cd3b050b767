-- Indexes for what is looked up by device: removing a refused device (its deliveries, the
-- enrollment and alerts that name it) and the sweep of devices that waited for activation too
-- long. Without them each of those reads every row of its table.
CREATE INDEX deliveries_device ON deliveries(device_id);
CREATE INDEX enrollments_device ON enrollments(device_id);
CREATE INDEX alerts_device ON alerts(device_id);
CREATE INDEX devices_pending_activation ON devices(created_at) WHERE activation_pending = 1;
