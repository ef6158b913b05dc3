// Keeps aw_test_support non-empty when no support sources exist yet.
