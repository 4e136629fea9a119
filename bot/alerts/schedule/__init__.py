"""When each server is checked: the plan (pure), its store, and the runner that fires it."""
