"""Browser tests: the real viewer in headless Chromium against a real `twin serve`."""
