"""hooks for the Toloka provider."""
