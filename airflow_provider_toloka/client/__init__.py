"""client for the Toloka provider."""
