#!/usr/bin/env python3
"""Generates a cache tree for bench/index: FILES small but real distributions over PROJECTS
projects in DIR/_files (where the sync puts them): wheels (zip with .dist-info/METADATA) and,
one in six, sdists (.tar.gz with PKG-INFO); a third declare Requires-Python. Deterministic.
Usage: index-tree.py DIR FILES PROJECTS [START]   (START: first file number, to add more later)"""
import io, os, random, sys, tarfile, zipfile

def main():
    root, files, projects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    start = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    out = os.path.join(root, "_files")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(13 + start)
    for i in range(start, start + files):
        project = "Bench_Project.%d" % (i % projects)
        version = "1.%d" % (i // projects)
        metadata = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (project, version)
        if i % 3 == 0:
            metadata += "Requires-Python: >=3.%d\n" % (8 + i % 5)
        metadata += "\n" + "A description.\n" * 20
        payload = rng.randbytes(rng.randint(1024, 4096))
        if i % 6 == 5:
            stem = "%s-%s" % (project.lower().replace(".", "_"), version)
            with tarfile.open(os.path.join(out, stem + ".tar.gz"), "w:gz") as tar:
                for name, data in (("PKG-INFO", metadata.encode()), ("setup.py", payload)):
                    info = tarfile.TarInfo("%s/%s" % (stem, name))
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        else:
            dist = "%s-%s" % (project.replace(".", "_"), version)
            with zipfile.ZipFile(os.path.join(out, dist + "-py3-none-any.whl"), "w") as whl:
                whl.writestr("bench_%d/__init__.py" % (i % projects), payload)
                whl.writestr(dist + ".dist-info/METADATA", metadata)
                whl.writestr(dist + ".dist-info/WHEEL", "Wheel-Version: 1.0\n")

main()
