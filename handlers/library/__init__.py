"""The town library: new acquisitions to the residents who want them, and titles they miss."""
