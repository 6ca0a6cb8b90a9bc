"""zhibiao's domain core: the versioned indicator library and what reads it.

Knows nothing of Flask. `api/` and `web/` are thin layers over these modules. The subpackages: library/ (the
draft and its versions), targets/ (a project's 绩效目标表), plan/ (the three-year plan), systems/ (indicator
systems and scoring), search/.
"""
