"""Device farms: units on remote benches (labgrid places) and many units at once."""
