"""triggers for the Toloka provider."""
