"""The platform's drift check: compares a model's recently logged inputs and predictions with the training
reference profile of the served version and pushes the scores to the Pushgateway (docs/monitoring.md)."""

__version__ = "1.0.0"
