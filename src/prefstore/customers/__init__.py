"""customers layer."""
