"""The public web: the Open311 GeoReport v2 API (and, with it, the open data)."""
