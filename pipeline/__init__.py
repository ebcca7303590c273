"""summarize: research papers in, structured and grounded records out."""

__version__ = "0.1.0"
