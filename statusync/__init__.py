"""statusync: GitOps for Sendcloud shop order status mappings."""

__version__ = "0.1.0"
