"""Run:ai's document shapes: what a valid request is, and the error body every failure uses."""
