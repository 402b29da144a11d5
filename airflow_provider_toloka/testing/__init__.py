"""testing for the Toloka provider."""
