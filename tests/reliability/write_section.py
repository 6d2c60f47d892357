#!/usr/bin/env python3
"""Replace what RELIABILITY.md holds between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
with the text of SECTION_FILE: how the reliability scripts write their figures.

    write_section.py NAME SECTION_FILE
"""
import pathlib
import sys

name, section_file = sys.argv[1], sys.argv[2]
section = open(section_file).read().rstrip("\n")
path = pathlib.Path(__file__).resolve().parents[2] / "RELIABILITY.md"
text = path.read_text()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
if begin not in text or end not in text:
    sys.exit(f"{path} has no {begin} ... {end} markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
path.write_text(f"{head}{begin}\n{section}\n{end}{tail}")
