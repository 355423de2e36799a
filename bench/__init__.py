"""`make bench`: import and report figures on the real data's shape."""
