"""Madoguchi (窓口): a complaint-handling help desk for Japanese online shops."""
