"""Demo data: filled in by madoguchi demo's own module (see madoguchi/demo/)."""


def load_demo(cases: int = 240) -> str:
    return "demo data not yet written"
