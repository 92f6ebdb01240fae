#!/usr/bin/env python3
"""Issue 9.1: `lyranet check` must refuse what `run` refuses as configuration.

Mutates each shipped manifest at random (seeded: LYRA_MUTATE_SEED, default 1;
LYRA_MUTATE_TOTAL mutations shared evenly by the manifests, default 1200, i.e.
200 for each of the six before the zero-copy ones, whose twins would
otherwise add a third to the time of this test, longest under ASan, whose
build sets 300 through ctest, over any value of the caller's
(tests/integration/CMakeLists.txt; run the script by hand for more); or
LYRA_MUTATE_N per manifest): values out of range, wrong enums,
bad links, swapped components, removed lines, bad selectors. A mutation that
check accepts is run for a moment in a private network namespace (PID in
its name, deleted afterwards); exit 1 from run, or exit 2 with a create/config
message, is a mismatch, and so is a check or a run killed by a signal. The
shipped manifests themselves must pass check and run first, and at least a
tenth of the mutations must pass check (190 of 1,200 do, 43-50 of 300): a check that
refused everything, its components not found say, would otherwise agree
with run on every mutation. (50 ms is enough: configuration errors come
from create and start, before the loop runs; the run's time was most of
this test's, 200 ms at first.) Without CAP_NET_ADMIN: skip (77). The mutations are
drawn in order from the seed, then checked and run by two workers, each in
a namespace of its own (a tap link of one never meets the other's)."""
import concurrent.futures, os, random, re, subprocess, sys, tempfile

lyranet, asm_dir = sys.argv[1], sys.argv[2]
seed = int(os.environ.get("LYRA_MUTATE_SEED", "1"))
budget = int(os.environ.get("LYRA_MUTATE_TOTAL", "1200"))
WORKERS = 2
nss = ["lyramut%d-%d" % (os.getpid(), w) for w in range(WORKERS)]
for ns in nss:
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode:
        for n in nss:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        print("SKIPPED LOUDLY: mutate_manifests needs CAP_NET_ADMIN for a private netns")
        sys.exit(77)

VALUES = ["0", "-1", "7", "12", "65536", "99999999999", "qmeu", "datasheet", "wrie:lyra",
          "wire:", "tap:", "tap:abcdefghijklmnopqrstuvwxyz", "wire:other", "yes", "maybe",
          "50%", "101%", "1.5", "", "192.0.2.300", "02:00:00:00:00:01", "01:00:00:00:00:01"]

def mutate(lines, rng, comps):
    """A changed copy of lines: drawn again while a draw changes nothing (a
    number rule on a word, a line swapped with itself)"""
    for _ in range(100):
        ls, how = mutate_once(lines, rng, comps)
        if ls != lines:
            break
    return ls, how

def mutate_once(lines, rng, comps):
    ls = list(lines)
    idx = [i for i, l in enumerate(ls) if "=" in l and not l.lstrip().startswith("#")]
    kind = rng.randrange(6)
    if not idx:
        return ls, "none"
    i = rng.choice(idx)
    key = ls[i].split("=", 1)[0].strip()
    if kind == 0:
        ls[i] = "%s = %s" % (key, rng.choice(VALUES))
    elif kind == 1:
        del ls[i]
    elif kind == 2 and key == "component":
        ls[i] = "component = %s" % rng.choice(comps)
    elif kind == 3:
        v = ls[i].split("=", 1)[1].strip()
        ls[i] = "%s = %s.l%d" % (key, v.split(",")[0].strip(), rng.randrange(2, 7))
    elif kind == 4:
        m = re.match(r"\s*(\S+)\s*=\s*(\d+)", ls[i])
        if m:
            n = int(m.group(2))
            ls[i] = "%s = %d" % (key, rng.choice([n + 1, n * 3, n // 2, n + 4, 2 ** 31]))
    else:
        j = rng.choice(idx)
        ls[i], ls[j] = ls[j], ls[i]
    return ls, "%d@%d" % (kind, i + 1)

def check(path):
    return subprocess.run([lyranet, "check", path], capture_output=True, text=True)

def run(w, path):
    """lyranet run for a moment, in worker w's namespace"""
    return subprocess.run(["ip", "netns", "exec", nss[w], lyranet, "run", path, "--for", "0.05"],
                          capture_output=True, text=True, timeout=60)

def trial(w, path, how):
    """check, then run what check accepts: (accepted, mismatch line or None)"""
    c = check(path)
    if c.returncode < 0:
        return False, "CRASH %s (%s): check killed by signal %d" % (path, how, -c.returncode)
    if c.returncode:
        os.unlink(path)
        return False, None
    r = run(w, path)
    if r.returncode < 0 or r.returncode > 2:  # a signal, or ip netns exec's 128 + signal
        return True, ("CRASH %s (%s): run exit %d: %s" %
                      (path, how, r.returncode, r.stderr.strip().splitlines()[-1:]))
    config = r.returncode == 1 or (r.returncode == 2 and re.search(
        r"create|start failed|could not start|error: .*\.(\w+):", r.stderr))
    if config:
        return True, ("MISMATCH %s (%s): check ok, run exit %d: %s" %
                      (path, how, r.returncode, r.stderr.strip().splitlines()[-1:]))
    os.unlink(path)
    return True, None

def main():
    rng = random.Random(seed)
    comps = sorted({m.group(1) for f in os.listdir(asm_dir) if f.endswith(".lyra")
                    for m in re.finditer(r"component\s*=\s*(\S+)", open(os.path.join(asm_dir, f)).read())})
    tmp = tempfile.mkdtemp(prefix="lyramut")
    jobs = []
    files = sorted(f for f in os.listdir(asm_dir) if f.endswith(".lyra"))
    # the unmutated manifests: what the mutations are measured against
    for f in files:
        path = os.path.join(tmp, f)
        open(path, "w").write(open(os.path.join(asm_dir, f)).read())
        c, r = check(path), run(0, path)
        if c.returncode or r.returncode:
            print("BASELINE %s: check exit %d, run exit %d: %s" % (
                f, c.returncode, r.returncode, (c.stderr + r.stderr).strip().splitlines()[-3:]))
            return 1
        os.unlink(path)
    per = int(os.environ.get("LYRA_MUTATE_N", "0")) or max(1, budget // len(files))
    for f in files:
        lines = open(os.path.join(asm_dir, f)).read().splitlines()
        for k in range(per):
            ls, how = mutate(lines, rng, comps)
            path = os.path.join(tmp, "%s.%d.lyra" % (f[:-5], k))
            open(path, "w").write("\n".join(ls) + "\n")
            jobs.append((path, how))
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        futs = [ex.submit(trial, i % WORKERS, p, h) for i, (p, h) in enumerate(jobs)]
        results = [fu.result() for fu in futs]
    total = len(results)
    accepted = sum(1 for a, _ in results if a)
    rejected = total - accepted
    mism = 0
    for _, line in results:
        if line:
            mism += 1
            print(line)
    print("mutate_manifests seed=%d: mutations %d, accepted %d, rejected %d, mismatches %d"
          % (seed, total, accepted, rejected, mism))
    if 10 * accepted < total:
        print("FAILED: check accepted under a tenth of the mutations: is it refusing everything?")
        return 1
    return 1 if mism else 0

try:
    sys.exit(main())
finally:
    for ns in nss:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
