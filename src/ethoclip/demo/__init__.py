"""The embedded synthetic project (demo data) and the synthetic-video tools it is made with."""
