"""links for the Toloka provider."""
