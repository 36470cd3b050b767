-- Every fetch of a request added an entry to this index of deliveries by device: a page of its
-- own per device, so one more page written per sign-in. Its one reader removes a device that
-- was refused activation (such a device never fetched a request, so it has no deliveries); it
-- now looks among the requests of the device's user instead, by the index of those requests.
DROP INDEX deliveries_device;
