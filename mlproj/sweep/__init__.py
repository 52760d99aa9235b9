"""`mlproj sweep`: many runs of one entry point over a grid or a random sample of parameters.

space (the -P specs -> combinations), plan (every combination checked: planned runs), pool
(the local backend: planned runs as child runs, N at a time), display (progress), summary
(ranked table, best run), driver (parent run, environment once, the whole sequence).
"""
