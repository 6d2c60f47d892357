"""Replace the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in RELIABILITY.md
with the contents of FILE: how the reliability scripts record their figures.

    python3 tests/reliability/write-section.py NAME FILE
"""
import sys

name, section_file = sys.argv[1], sys.argv[2]
section = open(section_file).read().rstrip("\n")
path = "RELIABILITY.md"
text = open(path).read()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
if begin not in text or end not in text:
    sys.exit(f"{path} has no {begin} ... {end} markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(f"{head}{begin}\n{section}\n{end}{tail}")
