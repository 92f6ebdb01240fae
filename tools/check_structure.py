#!/usr/bin/env python3
"""The tree's structure rules, checked (python3, standard library only).

  python3 tools/check_structure.py [--root DIR] [--build DIR]

Rules (docs: README "Layout"; issue 8.7):
  include      components/X reaches framework/ and its own files only;
               os_adapters/X and models/X reach framework/ and their own files;
               framework/ reaches nothing outside itself. System headers are
               allowed everywhere ...
  linux-only   ... except Linux- or glibc-only ones in components/ (they
               build for Cortex-M4 with newlib).
  size         no source file over 800 lines outside tests/.
  global       (with --build) no writable global or static data in a
               component: every lib/lyra/lyra_NAME.so but lyra_os_*.so is
               inspected through its static twin lib/liblyra_c_NAME.a with nm
               (D, B, C and kin) and objdump (sections: .data.rel.ro is
               read-only once relocated, so const tables holding pointers pass).

Every problem is printed as FILE:LINE: rule: what is wrong. Exit status 0
when the tree holds every rule, 1 when it does not, 2 on a usage error.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

MAX_LINES = 800

# Files known to be over MAX_LINES while their split is under way. Each
# entry must still be over the limit: once it shrinks, the check fails
# until the entry is removed, so the list cannot outlive its reason.
ALLOW_LONG = {
}

SOURCE_EXT = (".c", ".h", ".py", ".sh", ".cmake", ".S", ".s")
SOURCE_NAMES = ("CMakeLists.txt",)

# Headers only Linux (or glibc) has; components build for bare metal too.
LINUX_ONLY_PREFIX = ("linux/", "asm/", "asm-generic/", "netpacket/", "bits/", "gnu/")
LINUX_ONLY = {
    "sys/epoll.h", "sys/eventfd.h", "sys/timerfd.h", "sys/signalfd.h", "sys/inotify.h",
    "sys/fanotify.h", "sys/prctl.h", "sys/sysinfo.h", "sys/sendfile.h", "sys/random.h",
    "sys/syscall.h", "sys/personality.h", "sys/klog.h", "sys/sysmacros.h", "sys/vfs.h",
    "sys/statfs.h", "sys/fsuid.h", "sys/io.h", "sys/perm.h", "sys/reboot.h",
    "sys/capability.h", "sys/memfd.h", "sys/pidfd.h", "byteswap.h", "endian.h",
    "execinfo.h", "malloc.h", "mcheck.h", "features.h", "error.h", "argp.h", "mntent.h",
    "pty.h", "shadow.h", "netinet/ether.h", "net/ethernet.h", "net/if_arp.h",
    "net/if_packet.h", "net/route.h", "netinet/if_ether.h",
}

# Symbols and sections the toolchain adds (sanitizers, coverage, fuzzing):
# not the component's data.
TOOL_SYMBOL = re.compile(r"^(\.L|__asan|___asan|__odr_asan|__sancov|__ubsan|__gcov|"
                         r"__llvm_gcov|__llvm_prf|__profc|__profd|__covrec)")
TOOL_SECTION = re.compile(r"^(__sancov|asan_globals|__llvm_prf|\.init_array|\.fini_array)")
WRITABLE_TYPES = set("DdBbCGgSsVv")

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


class Report:
    def __init__(self):
        self.problems = []

    def add(self, where, line, rule, what):
        loc = "%s:%d" % (where, line) if line else where
        self.problems.append("%s: %s: %s" % (loc, rule, what))


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def strip_comments(text):
    """Block and line comments blanked, newlines kept (lines stay numbered)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def area_of(relpath):
    """The part of the tree a file belongs to, and the directory it owns."""
    parts = relpath.split("/")
    if parts[0] == "framework":
        return "framework", "framework"
    if parts[0] in ("components", "os_adapters", "models") and len(parts) > 2:
        return parts[0], parts[0] + "/" + parts[1]
    return None, None


def index_tree(root):
    """Every C header and source under the checked parts, by relative path."""
    files = []
    for top in ("framework", "components", "os_adapters", "models", "tests", "tools", "bench",
                "docs"):
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for f in filenames:
                if f.endswith((".c", ".h")):
                    files.append(rel(root, os.path.join(dirpath, f)))
    return files


def resolve(root, src, own, inc, quoted, tree):
    """Where an include lands: a tree path, or None for a system header."""
    cands = []
    if quoted:
        cands.append(os.path.normpath(os.path.join(os.path.dirname(src), inc)))
        cands.append(os.path.normpath(os.path.join(own, inc)))
    cands.append("framework/include/" + inc)
    for c in cands:
        c = c.replace(os.sep, "/")
        if not c.startswith("..") and os.path.isfile(os.path.join(root, c)):
            return c
    # Reached through some other include path (a target's include
    # directories): the tree file whose path ends with it.
    suffix = "/" + inc.lstrip("./")
    hits = sorted(t for t in tree if ("/" + t).endswith(suffix))
    for t in hits:  # a file of its own or the framework's wins over a namesake
        if t.startswith((own + "/", "framework/")):
            return t
    return hits[0] if hits else None


def check_includes(root, rep):
    tree = index_tree(root)
    checked = 0
    for path in tree:
        kind, own = area_of(path)
        if not kind:
            continue
        checked += 1
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = strip_comments(f.read())
        for no, line in enumerate(text.split("\n"), 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            quoted, inc = m.group(1) == '"', m.group(2).strip()
            target = resolve(root, path, own, inc, quoted, tree)
            if target is None:
                if quoted:
                    rep.add(path, no, "include",
                            '"%s" is neither in %s/ nor in framework/include/' % (inc, own))
                elif kind == "components" and (inc in LINUX_ONLY or
                                               inc.startswith(LINUX_ONLY_PREFIX)):
                    rep.add(path, no, "linux-only",
                            "<%s> is Linux/glibc-only; components also build for "
                            "bare metal (newlib)" % inc)
                continue
            if target.startswith(own + "/") or target.startswith("framework/"):
                continue
            allowed = ("framework/" if kind == "framework" else
                       "framework/ and %s/" % own)
            rep.add(path, no, "include", "%s reaches %s (%s may reach only %s)"
                    % (inc, target, own + "/", allowed))
    return checked


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        r = rel(root, dirpath)
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if d.startswith(".") or (r == "." and d == "tests"):
                continue
            if os.path.exists(os.path.join(full, "CMakeCache.txt")):
                continue  # a build directory
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            if f.endswith(SOURCE_EXT) or f in SOURCE_NAMES:
                yield rel(root, os.path.join(dirpath, f))


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def check_sizes(root, rep):
    seen = 0
    for path in source_files(root):
        seen += 1
        n = count_lines(os.path.join(root, path))
        if path in ALLOW_LONG:
            if n <= MAX_LINES:
                rep.add(path, 1, "size", "%d lines, now within %d: remove it from ALLOW_LONG in "
                        "tools/check_structure.py" % (n, MAX_LINES))
            continue
        if n > MAX_LINES:
            rep.add(path, MAX_LINES + 1, "size", "%d lines, over %d (outside tests/): split it "
                    "along its topics" % (n, MAX_LINES))
    for path in sorted(ALLOW_LONG):
        if not os.path.isfile(os.path.join(root, path)):
            rep.add("tools/check_structure.py", 1, "size",
                    "ALLOW_LONG names %s, which does not exist: remove it" % path)
    return seen


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, check=False)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def sections_of(archive):
    """(member, symbol) -> section name, from objdump -t."""
    out = {}
    member = None
    for line in run(["objdump", "-t", archive]).splitlines():
        m = re.match(r"^(\S+):\s+file format", line)
        if m:
            member = m.group(1)
            continue
        # 0000000000000000 l     O .bss	0000000000000004 counter
        m = re.match(r"^[0-9a-fA-F]+\s.{7}\s(\S+)\s+[0-9a-fA-F]+\s+"
                     r"(?:\.hidden\s+|\.protected\s+|\.internal\s+)?(\S+)$", line)
        if m and member:
            out[(member, m.group(2))] = m.group(1)
    return out


def find_definition(root, member, name):
    """FILE:LINE of a writable object's definition, from the object's name."""
    src = member[:-2] if member.endswith(".o") else member
    base = os.path.basename(src)
    pat = re.compile(r"\b%s\b\s*(\[[^\]]*\]\s*)*(=|;|,)" % re.escape(name.split(".")[0]))
    for top in ("components", "models", "os_adapters", "framework", "tests", "docs"):
        for dirpath, _, filenames in os.walk(os.path.join(root, top)):
            if base in filenames:
                p = os.path.join(dirpath, base)
                with open(p, encoding="utf-8", errors="replace") as f:
                    for no, line in enumerate(f, 1):
                        if pat.search(line) and not line.lstrip().startswith(("return", "*")):
                            return rel(root, p), no
    return None, 0


def check_globals(root, build, rep):
    for tool in ("nm", "objdump"):
        if not shutil.which(tool):
            rep.add(build, 0, "global", "%s not found (binutils): cannot inspect objects" % tool)
            return 0
    moddir = os.path.join(build, "lib", "lyra")
    if not os.path.isdir(moddir):
        rep.add(build, 0, "global", "no lib/lyra/ here: is it a build directory?")
        return 0
    names = sorted(f[len("lyra_"):-len(".so")] for f in os.listdir(moddir)
                   if f.startswith("lyra_") and f.endswith(".so"))
    checked = 0
    for name in names:
        if name.startswith("os_"):
            continue  # OS adapters may hold process-wide state (DESIGN.md)
        archive = os.path.join(build, "lib", "liblyra_c_%s.a" % name)
        if not os.path.isfile(archive):
            rep.add(rel(root, os.path.join(moddir, "lyra_%s.so" % name))
                    if archive.startswith(root) else os.path.join(moddir, "lyra_%s.so" % name),
                    0, "global", "no static twin %s to inspect" % archive)
            continue
        checked += 1
        secs = sections_of(archive)
        for line in run(["nm", "-A", "--defined-only", archive]).splitlines():
            # lib.a:member.o:0000000000000000 B counter
            m = re.match(r"^.*?:([^:]+):\s*[0-9a-fA-F]*\s+(\S)\s+(\S+)$", line)
            if not m:
                continue
            member, typ, sym = m.groups()
            if typ not in WRITABLE_TYPES or TOOL_SYMBOL.match(sym):
                continue
            sec = secs.get((member, sym), "*COM*" if typ == "C" else "?")
            if sec.startswith((".data.rel.ro", ".rodata")) or TOOL_SECTION.match(sec):
                continue
            where, no = find_definition(root, member, sym)
            what = ("'%s' (nm %s, %s) in lyra_%s: writable data in a component; two stacks "
                    "share one process, so state lives in the instance" % (sym, typ, sec, name))
            if where:
                rep.add(where, no, "global", what)
            else:
                rep.add("%s(%s)" % (archive, member), 0, "global", what)
    return checked


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--root", default=here, help="source tree (default: this one)")
    ap.add_argument("--build", help="build directory: also check the component objects")
    a = ap.parse_args(argv)
    root = os.path.abspath(a.root)
    if not os.path.isdir(os.path.join(root, "framework")):
        print("check_structure: %s is not a LyraNET tree (no framework/)" % root, file=sys.stderr)
        return 2
    rep = Report()
    n_inc = check_includes(root, rep)
    n_src = check_sizes(root, rep)
    n_obj = 0
    if a.build:
        try:
            n_obj = check_globals(root, os.path.abspath(a.build), rep)
        except RuntimeError as e:
            rep.add(a.build, 0, "global", str(e))
    for p in rep.problems:
        print(p)
    summary = "%d files' includes, %d source files' sizes%s" % (
        n_inc, n_src, ", %d component objects" % n_obj if a.build else "")
    if rep.problems:
        print("check_structure: %d problem(s) (%s checked)" % (len(rep.problems), summary))
        return 1
    print("check_structure: ok (%s)" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
