"""Engines that run the analysis somewhere other than one process (``spark``: Apache Spark)."""
