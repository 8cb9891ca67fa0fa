#!/usr/bin/python3
"""The baseline: PyYAML's C loader (yaml.CSafeLoader, Debian python3-yaml)
parsing the front matter of every .md file under the given directories,
split the way the runtime splits it (first line '---', closed by '---' or
'...'). Prints the number of files parsed and of YAML errors."""
import os
import sys

import yaml


def front_matter(text):
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r").rstrip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r").rstrip() in ("---", "..."):
            return "\n".join(lines[1:i])
    return None


def main():
    parsed = errors = 0
    for top in sys.argv[1:]:
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(".md"):
                    continue
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                    fm = front_matter(f.read())
                if fm is None:
                    continue
                try:
                    yaml.load(fm, Loader=yaml.CSafeLoader)
                    parsed += 1
                except yaml.YAMLError:
                    errors += 1
    print("%d parsed, %d YAML errors" % (parsed, errors))


if __name__ == "__main__":
    main()
