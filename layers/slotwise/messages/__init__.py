"""Messages between a booking's customer and its provider (the resource's advisor, the vendor), kept by booking."""
