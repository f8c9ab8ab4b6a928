"""Analysis: profile each iceberg — where it happens, what caused it, who it affects."""
