"""What the hub tells its operators about itself: metrics (and, later, logs and traces)."""
