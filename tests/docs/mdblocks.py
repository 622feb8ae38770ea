"""The code blocks of the README and docs/*.md, found by their fences, and the matcher that
compares what a page shows with what a command prints.

A page's fenced blocks are found automatically:

* ```` ```console ````: lines starting with ``$ `` are commands (``accelscope ...``,
  ``python ...``); the lines after a command, up to the next ``$ `` line, are the output the
  page shows. A line that is only ``...`` elides output.
* ```` ```python ````: a snippet, run in a fresh interpreter in a scratch copy of the checkout
  root (``examples/`` and ``bench/`` are there).
* ```` ```text ```` directly after a python block and marked ``<!-- doctest: output -->``: the
  output the snippet prints.
* any other language (``text``, ``yaml``, ``bash``, ``math``, ...) is not run; a fence with no
  language is an error (a test says where), so that no command hides from the tests.

An HTML comment on the line(s) just before a fence gives the block's directives, e.g.::

    <!-- doctest: skip="needs SCALE-Sim 3.0.0 installed (30 minutes)" -->
    <!-- doctest: slow; volatile="^cpu .*" -->
    <!-- doctest: setup="accelscope run tiny --arch ideal" -->

``skip=REASON`` does not run the block (the test lists the skipped blocks and why);
``slow`` puts it in the slow tier (``pytest -m slow``); ``volatile=REGEX`` (repeatable,
``|``-joined) marks the numbers of matching spans of the shown output as not deterministic
(measured times, the host CPU); ``setup=CMD`` runs a command in the page's scratch directory
first; ``exit=N``: the commands of the block exit with status N (an error shown on
purpose). Numbers followed by `` s`` (seconds) are always volatile.

Numbers in prose: ``<!-- doctest-numbers: cmd="accelscope ..." expect="3,600; 1.54x" -->``
before a paragraph says that each ``expect`` item is printed by the command and appears in the
paragraph that follows; both are checked (``slow`` may be added).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+)(?P<lang>[^`\s]*)\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*doctest:(?P<body>.*?)-->\s*$")
NUMBERS = re.compile(r"^\s*<!--\s*doctest-numbers:(?P<body>.*?)-->\s*$")
RUN_LANGS = {"console", "python"}
QUIET_LANGS = {"text", "yaml", "bash", "math", "csv", "json", "toml", "diff", "ini"}
"""Languages shown but never run (a ``bash`` block would be run if it held ``$`` lines:
use ``console`` for commands)."""
DEFAULT_VOLATILE = r"\S+(?= s\b)"
"""Seconds: a wall time printed by the tool (``lowered and checked in 0.49 s``)."""
BOX = re.compile(r"^[─━│┃╭╮╰╯═┄┈╴╶┌┐└┘├┤┬┴┼]+$")


def pages() -> list[Path]:
    """The pages whose blocks are tests: README.md and docs/**/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@dataclass
class Directives:
    skip: str | None = None
    slow: bool = False
    volatile: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    output: bool = False
    exit: int = 0
    cmd: str | None = None
    expect: list[str] = field(default_factory=list)


def parse_directives(body: str, where: str) -> Directives:
    d = Directives()
    lexer = shlex.shlex(body, posix=True, punctuation_chars=";")
    lexer.whitespace_split = True
    for item in lexer:
        if item == ";":
            continue
        key, eq, value = item.partition("=")
        if key == "skip" and eq and value:
            d.skip = value
        elif key == "slow" and not eq:
            d.slow = True
        elif key == "output" and not eq:
            d.output = True
        elif key == "volatile" and eq:
            re.compile(value)
            d.volatile.append(value)
        elif key == "exit" and eq:
            d.exit = int(value)
        elif key == "setup" and eq:
            d.setup.append(value)
        elif key == "cmd" and eq:
            d.cmd = value
        elif key == "expect" and eq:
            d.expect += [v.strip() for v in value.split(";") if v.strip()]
        else:
            raise ValueError(f"{where}: unknown doctest directive {item!r} (skip=REASON, "
                             "slow, volatile=REGEX, setup=CMD, exit=N, output; "
                             "doctest-numbers: cmd=, expect=)")
    return d


@dataclass
class Block:
    page: str
    line: int
    """1-based line of the opening fence."""
    lang: str
    text: str
    directives: Directives
    expected_output: Block | None = None
    """The ``output`` block that follows a python block."""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def commands(self) -> list[tuple[str, list[str]]]:
        """(command, shown output lines) of a console block."""
        out: list[tuple[str, list[str]]] = []
        for line in self.text.splitlines():
            if line.startswith("$ "):
                out.append((line[2:].strip(), []))
            elif out:
                out[-1][1].append(line)
            elif line.strip():
                raise ValueError(f"{self.id}: a console block starts with a '$ ' command line")
        return out


@dataclass
class NumbersCheck:
    page: str
    line: int
    directives: Directives
    paragraph: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Page:
    path: str
    blocks: list[Block]
    checks: list[NumbersCheck]
    unlabelled: list[int]
    """Lines of fences without a language."""


def parse_page(path: Path) -> Page:
    name = rel(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    checks: list[NumbersCheck] = []
    unlabelled: list[int] = []
    pending: Directives | None = None
    last_end = -10
    i = 0
    while i < len(lines):
        line = lines[i]
        m_dir = DIRECTIVE.match(line)
        m_num = NUMBERS.match(line)
        if m_dir:
            pending = parse_directives(m_dir.group("body"), f"{name}:{i + 1}")
            i += 1
            continue
        if m_num:
            d = parse_directives(m_num.group("body"), f"{name}:{i + 1}")
            if not d.cmd or not d.expect:
                raise ValueError(f"{name}:{i + 1}: doctest-numbers needs cmd= and expect=")
            para = []
            j = i + 1
            while j < len(lines) and lines[j].strip():
                para.append(lines[j])
                j += 1
            checks.append(NumbersCheck(name, i + 1, d, "\n".join(para)))
            i += 1
            continue
        m = FENCE.match(line)
        if m:
            fence, lang = m.group("fence"), m.group("lang")
            start = i
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            if not lang:
                unlabelled.append(start + 1)
            d = pending or Directives()
            block = Block(name, start + 1, lang, "\n".join(body), d)
            if d.output:
                if not blocks or blocks[-1].lang != "python" or start - last_end > 3:
                    raise ValueError(f"{block.id}: an output block comes right after the "
                                     "python block whose output it shows")
                blocks[-1].expected_output = block
            else:
                blocks.append(block)
            pending = None
            last_end = i
            i += 1
            continue
        if line.strip():
            pending = None
        i += 1
    return Page(name, blocks, checks, unlabelled)


def all_pages() -> list[Page]:
    return [parse_page(p) for p in pages()]


# --- matching shown output against printed output ---------------------------------------------


@dataclass
class Token:
    text: str
    volatile: bool = False


def _tokens(line: str, volatile: list[str]) -> list[Token]:
    spans: list[tuple[int, int]] = []
    for pattern in [DEFAULT_VOLATILE, *volatile]:
        spans += [(m.start(), m.end()) for m in re.finditer(pattern, line)]
    out = []
    for m in re.finditer(r"\S+", line):
        t = m.group()
        if BOX.match(t):
            continue
        vol = is_number(t) and any(s < m.end() and m.start() < e for s, e in spans)
        out.append(Token(t, vol))
    return out


def segments(shown: list[str], volatile: list[str]) -> list[list[Token]]:
    """The shown output as runs of tokens, split at ``...`` lines."""
    segs: list[list[Token]] = [[]]
    for line in shown:
        if line.strip() == "...":
            segs.append([])
        else:
            segs[-1] += _tokens(line, volatile)
    return [s for s in segs if s]


def printed_tokens(text: str) -> list[str]:
    return [t for t in text.split() if not BOX.match(t)]


def is_number(t: str) -> bool:
    return bool(re.search(r"\d", t))


def match(shown: list[str], printed: str, volatile: list[str]) -> tuple[int, str | None]:
    """Whether every segment of ``shown`` appears in ``printed``, in order, token for token
    (volatile numbers match any token). Returns (numbers compared, None) or (_, why not)."""
    actual = printed_tokens(printed)
    pos = 0
    compared = 0
    for seg in segments(shown, volatile):
        found = None
        best = (-1, 0)
        for start in range(pos, len(actual) - len(seg) + 1):
            k = 0
            while k < len(seg) and (seg[k].volatile or seg[k].text == actual[start + k]):
                k += 1
            if k == len(seg):
                found = start
                break
            if k > best[0]:
                best = (k, start)
        if found is None:
            k, start = best
            if k < 0:
                return compared, ("the shown output is longer than what the command printed: "
                                  + " ".join(t.text for t in seg[:12]))
            ctx_shown = " ".join(t.text for t in seg[max(0, k - 6):k + 6])
            ctx_actual = " ".join(actual[start + max(0, k - 6):start + k + 6])
            return compared, (f"shown {seg[k].text!r} where the command prints "
                              f"{actual[start + k]!r} (token {k + 1} of a shown run of "
                              f"{len(seg)}):\n  page:    ... {ctx_shown} ...\n"
                              f"  printed: ... {ctx_actual} ...")
        compared += sum(1 for t in seg if not t.volatile and is_number(t.text))
        pos = found + len(seg)
    return compared, None
