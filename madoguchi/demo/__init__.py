"""Demo data for `madoguchi demo` (issue 2, part 4)."""

from madoguchi.demo.loader import load_demo

__all__ = ["load_demo"]
