"""Say in one sentence, before anything is installed, when PYTHON is one the book does not support.

`make` runs this with the interpreter it is about to use (`make test PYTHON=python3.12` picks another).
The supported range is written once, as `requires-python` in pyproject.toml; this file reads it there.
Exit status 1, and the sentence on stderr, when the interpreter is outside that range.
Kept to the Python that every Python 3 understands, so that an old one gets the sentence too.
"""

import re
import sys


def version_tuple(text):
    return tuple(int(part) for part in text.split("."))


def supported_range(spec):
    """'Python 3.11 to 3.13' for '>=3.11,<3.14'; 'Python 3.11 or newer' for '>=3.11'."""
    lowest = re.search(r">=\s*([\d.]+)", spec).group(1)
    below = re.search(r"<\s*(\d+)\.(\d+)", spec)
    if not below:
        return "Python {} or newer".format(lowest)
    return "Python {} to {}.{}".format(
        lowest, below.group(1), int(below.group(2)) - 1
    )


def problem(spec, have, executable):
    """The sentence for an interpreter of version `have` (a tuple) outside
    `spec` (requires-python: '>=' and '<' clauses), or None."""
    for clause in spec.split(","):
        op, bound = re.match(r"\s*(>=|<)\s*([\d.]+)\s*$", clause).groups()
        bound = version_tuple(bound)
        if (op == ">=" and have < bound) or (op == "<" and have >= bound):
            return (
                "make: {} is Python {}, but the book supports {} "
                '(pyproject.toml: requires-python = "{}"); point make at '
                "another, for example `make test PYTHON=python3.12`.".format(
                    executable,
                    ".".join(map(str, have)),
                    supported_range(spec),
                    spec,
                )
            )
    return None


def requires_python(path="pyproject.toml"):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return re.search(r'^requires-python = "([^"]+)"', text, re.M).group(1)


def main():
    sentence = problem(
        requires_python(), tuple(sys.version_info[:3]), sys.executable
    )
    if sentence:
        sys.stderr.write(sentence + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
