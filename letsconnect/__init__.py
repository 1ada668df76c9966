"""Operator tooling: the embedded stack (`letsconnect up`), the demo and the program report."""
