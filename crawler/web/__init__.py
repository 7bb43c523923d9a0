"""The read-only web reader: `newsarchive serve`."""
