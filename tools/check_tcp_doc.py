#!/usr/bin/env python3
"""docs/tcp.md's RFC 9293 MUST table, checked against the tree (python3,
standard library only), so the table cannot name what does not exist.

  python3 tools/check_tcp_doc.py [--root DIR] [--doc FILE]
  python3 tools/check_tcp_doc.py --self-test

Checks:
  tests      every test the document names as `suite::name` is a Criterion
             Test(suite, name ...) or ParameterizedTest(...) in a .c file
             under tests/;
  code       every `file.c:function` (or .h; a bare file name is in
             components/tcp/, else the path is from the root) names a file
             that exists and defines or calls function(...);
  rows       the table has one row per MUST, MUST-1 to MUST-N in order, with
             a known status; a "tested" or "partly" row names a test, a
             "not yet tested" row names none;
  summary    the "Summary: N MUSTs; ..." line adds up to the table;
  names      every parameter of components/tcp/tcp.c and every counter
             (TCP_STATS in tcp_priv.h, lyra_stat in tcp.c) is in the
             document as `name`.

Every problem is printed as FILE:LINE: rule: what is wrong. Exit status 0
when the document holds, 1 when it does not, 2 on a usage error.
"""
import argparse
import os
import re
import sys
import tempfile

STATUSES = ("tested", "partly", "not yet tested", "not done", "n/a")
TEST_REF = re.compile(r"`(\w+)::(\w+)`")
CODE_REF = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.[ch]):(\w+)`")
TEST_DEF = re.compile(r"^\s*(?:Parameterized)?Test\(\s*(\w+)\s*,\s*(\w+)\s*[,)]", re.M)
ROW = re.compile(r"^\| MUST-(\d+) \|")
SUMMARY = re.compile(r"^Summary: (\d+) MUSTs; (\d+) with a test \((\d+) tested, (\d+) partly\), "
                     r"(\d+) not yet tested, (\d+) not done, (\d+) n/a\.$")


def defined_tests(root):
    found = set()
    for d, _, files in os.walk(os.path.join(root, "tests")):
        for f in files:
            if f.endswith(".c"):
                with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
                    found.update(TEST_DEF.findall(fh.read()))
    return found


PARAM_DEF = re.compile(r'^\s*\[P_\w+\]\s*=\s*\{"(\w+)"', re.M)
STAT_X = re.compile(r"\bX\((\w+)\)")
STAT_EMIT = re.compile(r'lyra_stat\(sink,\s*"(\w+)"')


def component_names(root):
    """(parameters, counters) of the tcp component, or empty sets when its
    files are not there."""
    params, stats = set(), set()
    try:
        with open(os.path.join(root, "components/tcp/tcp.c"), encoding="utf-8") as fh:
            text = fh.read()
        params.update(PARAM_DEF.findall(text))
        stats.update(STAT_EMIT.findall(text))
        with open(os.path.join(root, "components/tcp/tcp_priv.h"), encoding="utf-8") as fh:
            text = fh.read()
        m = re.search(r"#define TCP_STATS\(X\)(.*?)\n\n", text, re.S)
        if m:
            stats.update(STAT_X.findall(m.group(1)))
    except OSError:
        pass
    return params, stats


def check(root, doc):
    problems = []
    where = os.path.relpath(doc, root) if doc.startswith(root) else doc

    def bad(line, rule, what):
        problems.append("%s:%d: %s: %s" % (where, line, rule, what))

    with open(doc, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    tests = defined_tests(root)
    sources = {}
    rows = []
    summary = None
    for n, line in enumerate(lines, 1):
        for suite, name in TEST_REF.findall(line):
            if (suite, name) not in tests:
                bad(n, "tests", "%s::%s: no such test under tests/" % (suite, name))
        for path, fn in CODE_REF.findall(line):
            full = os.path.join(root, path if "/" in path else os.path.join("components/tcp", path))
            if full not in sources:
                try:
                    with open(full, encoding="utf-8", errors="replace") as fh:
                        sources[full] = fh.read()
                except OSError:
                    sources[full] = None
            if sources[full] is None:
                bad(n, "code", "%s: no such file" % os.path.relpath(full, root))
            elif not re.search(r"\b%s\s*\(" % re.escape(fn), sources[full]):
                bad(n, "code", "%s: no function %s" % (os.path.relpath(full, root), fn))
        m = SUMMARY.match(line)
        if m:
            summary = (n, [int(x) for x in m.groups()])
        m = ROW.match(line)
        if m:
            cells = [c.strip() for c in line.strip()[1:-1].split("|")]
            rows.append((n, int(m.group(1)), cells))
    counts = dict.fromkeys(STATUSES, 0)
    for i, (n, num, cells) in enumerate(rows):
        if num != i + 1:
            bad(n, "rows", "MUST-%d where MUST-%d belongs" % (num, i + 1))
        if len(cells) != 5:
            bad(n, "rows", "MUST-%d has %d cells, not 5 (MUST, requirement, where, test, "
                "status)" % (num, len(cells)))
            continue
        status = cells[4]
        if status not in counts:
            bad(n, "rows", "MUST-%d: status \"%s\" is none of %s" % (num, status,
                                                                     ", ".join(STATUSES)))
            continue
        counts[status] += 1
        named = TEST_REF.findall(cells[3])
        if status in ("tested", "partly") and not named:
            bad(n, "rows", "MUST-%d is %s but names no test" % (num, status))
        if status == "not yet tested" and named:
            bad(n, "rows", "MUST-%d is not yet tested but names %s::%s" % (num, *named[0]))
    text = "\n".join(lines)
    params, stats = component_names(root)
    for kind, names in (("parameter", params), ("counter", stats)):
        for name in sorted(names):
            if "`%s`" % name not in text:
                bad(1, "names", "tcp's %s %s is not in the document" % (kind, name))
    if not rows:
        bad(1, "rows", "no MUST table (rows starting \"| MUST-\")")
    if summary is None:
        bad(1, "summary", "no line \"Summary: N MUSTs; W with a test (T tested, P partly), "
            "U not yet tested, D not done, A n/a.\"")
    else:
        n, (total, with_test, tested, partly, untested, notdone, na) = summary
        want = [len(rows), counts["tested"] + counts["partly"], counts["tested"],
                counts["partly"], counts["not yet tested"], counts["not done"], counts["n/a"]]
        got = [total, with_test, tested, partly, untested, notdone, na]
        if got != want:
            bad(n, "summary", "says %s; the table has: Summary: %d MUSTs; %d with a test "
                "(%d tested, %d partly), %d not yet tested, %d not done, %d n/a." %
                (lines[n - 1][len("Summary: "):], *want))
    return problems


def self_test():
    """The check passes a small good tree and catches each rule broken."""
    good_doc = (
        "`tcp_x::ok` and `a.c:f`; `max_x`, `rx_x`, `tx_x`, `conns_x`\n\n"
        "Summary: 3 MUSTs; 2 with a test (1 tested, 1 partly), 1 not yet tested, 0 not done, "
        "0 n/a.\n\n"
        "| MUST | requirement | where | test | status |\n| --- | --- | --- | --- | --- |\n"
        "| MUST-1 | r | `a.c:f` | `tcp_x::ok` | tested |\n"
        "| MUST-2 | r | `components/ip/b.c:g` | `tcp_x::ok2` | partly |\n"
        "| MUST-3 | r | `a.c:f` | | not yet tested |\n")
    cases = [
        ("good", lambda d: d, None),
        ("missing test", lambda d: d.replace("`tcp_x::ok2`", "`tcp_x::nope`"),
         "tests: tcp_x::nope: no such test"),
        ("missing function", lambda d: d.replace("`a.c:f`", "`a.c:h`", 1),
         "code: components/tcp/a.c: no function h"),
        ("missing file", lambda d: d.replace("components/ip/b.c", "components/ip/c.c"),
         "code: components/ip/c.c: no such file"),
        ("a cell too many", lambda d: d.replace("`tcp_x::ok` | tested", "`tcp_x::ok` | | tested"),
         "rows: MUST-1 has 6 cells"),
        ("tested names none", lambda d: d.replace("| `tcp_x::ok` | tested", "| | tested"),
         "rows: MUST-1 is tested but names no test"),
        ("untested names one", lambda d: d.replace("| | not yet tested", "| `tcp_x::ok` | "
                                                   "not yet tested"),
         "rows: MUST-3 is not yet tested but names tcp_x::ok"),
        ("unknown status", lambda d: d.replace("| not yet tested |", "| maybe |"),
         "rows: MUST-3: status \"maybe\""),
        ("a row missing", lambda d: d.replace("| MUST-2 |", "| MUST-4 |"),
         "rows: MUST-4 where MUST-2 belongs"),
        ("summary off", lambda d: d.replace("1 not yet tested", "2 not yet tested"),
         "summary: says 3 MUSTs"),
        ("no summary", lambda d: d.replace("Summary:", "Sum:"), "summary: no line"),
        ("a counter left out", lambda d: d.replace("`rx_x`", "rx_x"),
         "names: tcp's counter rx_x is not in the document"),
        ("a parameter left out", lambda d: d.replace("`max_x`", "max_x"),
         "names: tcp's parameter max_x is not in the document"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as root:
        for d, body in (("components/tcp/a.c", "void f(void) {}\n"),
                        ("components/tcp/tcp.c", '    [P_MAX] = {"max_x", LYRA_P_INT, "1"},\n'
                         '    lyra_stat(sink, "conns_x", 0);\n'),
                        ("components/tcp/tcp_priv.h", "#define TCP_STATS(X) \\\n"
                         "    X(rx_x) X(tx_x)\n\nstruct s;\n"),
                        ("components/ip/b.c", "int g(int x)\n{ return x; }\n"),
                        ("tests/unit/x/t.c", "Test(tcp_x, ok)\n{\n}\nTest(tcp_x, ok2, "
                         ".timeout = 9)\n{\n}\n")):
            os.makedirs(os.path.join(root, os.path.dirname(d)), exist_ok=True)
            with open(os.path.join(root, d), "w") as fh:
                fh.write(body)
        doc = os.path.join(root, "tcp.md")
        for what, mutate, expect in cases:
            with open(doc, "w") as fh:
                fh.write(mutate(good_doc))
            got = check(root, doc)
            ok = (not got) if expect is None else any(expect in p for p in got)
            if not ok:
                failures += 1
                print("self-test %s: expected %s, got %s" % (what, expect or "no problem", got))
    print("self-test: %d of %d cases as expected" % (len(cases) - failures, len(cases)))
    return 1 if failures else 0


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=here, help="the source tree (default: this script's)")
    ap.add_argument("--doc", help="the document (default: ROOT/docs/tcp.md)")
    ap.add_argument("--self-test", action="store_true", help="check the checker")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    root = os.path.abspath(a.root)
    doc = os.path.abspath(a.doc) if a.doc else os.path.join(root, "docs", "tcp.md")
    if not os.path.isfile(doc):
        print("check_tcp_doc: %s: no such file" % doc, file=sys.stderr)
        return 2
    problems = check(root, doc)
    for p in problems:
        print(p)
    sys.stdout.flush()
    print("check_tcp_doc: %s" % ("%d problem(s)" % len(problems) if problems else "ok"),
          file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
