"""Free-space trends per volume: the series from the history, the forecast, and its chart."""
