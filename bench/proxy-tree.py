#!/usr/bin/env python3
"""Writes the upstream tree bench/proxy serves with nginx: PEP 503 pages and files.

  bench-pkg   one 1 MiB wheel (served cached from the proxy and statically by nginx)
  many-files  a page of 5,000 files (the files themselves are never fetched)
  big-pkg     one wheel of BIG_MIB MiB (memory with 100 clients)
  cold-pkg    COLD wheels of COLD_MIB MiB each (cold misses, each fetched once)
  burst-pkg   16 wheels of 20 MiB (16 cold misses at once)
  follow-pkg  one wheel of COLD_MIB MiB (clients joining a cold miss whose first client is slow)
  slow-pkg    COLD more wheels of COLD_MIB MiB, linked under /slow/ (nginx sends those at a
              network's rate: cold misses from an upstream that is not on the same machine)
Usage: proxy-tree.py ROOT BIG_MIB COLD COLD_MIB
"""
import hashlib
import os
import sys

root, big_mib, cold, cold_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
files = os.path.join(root, "files")
os.makedirs(files, exist_ok=True)


def write_file(name, mib):
    digest = hashlib.sha256()
    chunk = os.urandom(1 << 20)
    with open(os.path.join(files, name), "wb") as out:
        for i in range(mib):
            block = chunk[:-8] + i.to_bytes(8, "big")
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def page(project, links, prefix="/files/"):
    folder = os.path.join(root, "simple", project)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "index.html"), "w") as out:
        out.write("<!DOCTYPE html>\n<html><body>\n")
        for name, sha in links:
            out.write(
                '<a href="%s%s#sha256=%s" data-requires-python="&gt;=3.8">%s</a><br/>\n'
                % (prefix, name, sha, name)
            )
        out.write("</body></html>\n")


page("bench-pkg", [("bench_pkg-1.0-py3-none-any.whl", write_file("bench_pkg-1.0-py3-none-any.whl", 1))])
page(
    "many-files",
    [("many_files-%d.%d-py3-none-any.whl" % (i // 100, i % 100), "%064x" % i) for i in range(5000)],
)
page("big-pkg", [("big_pkg-1.0-py3-none-any.whl", write_file("big_pkg-1.0-py3-none-any.whl", big_mib))])
page(
    "cold-pkg",
    [("cold_pkg-%d.0-py3-none-any.whl" % i, write_file("cold_pkg-%d.0-py3-none-any.whl" % i, cold_mib)) for i in range(cold)],
)
page(
    "slow-pkg",
    [("slow_pkg-%d.0-py3-none-any.whl" % i, write_file("slow_pkg-%d.0-py3-none-any.whl" % i, cold_mib)) for i in range(cold)],
    prefix="/slow/",
)
page(
    "burst-pkg",
    [("burst_pkg-%d.0-py3-none-any.whl" % i, write_file("burst_pkg-%d.0-py3-none-any.whl" % i, 20)) for i in range(16)],
)
page(
    "follow-pkg",
    [("follow_pkg-1.0-py3-none-any.whl", write_file("follow_pkg-1.0-py3-none-any.whl", cold_mib))],
)
