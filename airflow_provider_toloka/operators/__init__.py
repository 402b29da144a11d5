"""operators for the Toloka provider."""
