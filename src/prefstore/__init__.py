"""prefstore: a customer preference memory store beside a CRM."""

__version__ = "0.1.0"
