"""zhibiao's domain core: the versioned indicator library and what reads it.

Knows nothing of Flask. `api/` and `web/` are thin layers over these modules.
"""
