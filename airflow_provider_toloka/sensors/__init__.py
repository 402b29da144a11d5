"""sensors for the Toloka provider."""
