"""Live sensor layers after OGC SensorThings: things, datastreams, observations."""
