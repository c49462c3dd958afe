"""rnnkit."""
