#!/usr/bin/env python3
"""Where a webhook server's CPU went, from a JFR recording: each execution sample is put in the
category of the frame nearest its leaf that belongs to one (library helpers such as Jackson or
java.util are skipped, so a Jackson frame counts for the webhook step that called it), plus the
collector's pauses. Prints a Markdown table.

Usage: [JFR_TOOL=/path/to/jdk/bin/jfr] jfr-categories.py RECORDING.jfr
"""
import collections
import os
import re
import subprocess
import sys

# (category, frame prefixes); the first category matching a frame, leaf first, wins
CATEGORIES = [
    ("TLS (records, ciphers)", ("sun.security.", "com.sun.crypto.", "javax.crypto.",
                                "io.netty.handler.ssl.", "io.netty.internal.tcnative.")),
    ("JSON parse (AdmissionReview to tree)", ("dev.pypimirror.operator.webhook.AdmissionReviews.read",
                                              "dev.pypimirror.operator.webhook.AdmissionReviews.isUtf8")),
    ("answer writing (patch, base64, AdmissionReview)", (
        "dev.pypimirror.operator.webhook.AdmissionReviews.answer",
        "dev.pypimirror.operator.webhook.PatchWriter.")),
    ("selection and planning", ("dev.pypimirror.operator.inject.", "dev.pypimirror.operator.config.",
                                "dev.pypimirror.operator.policy.",
                                "dev.pypimirror.operator.webhook.PodAdmission.")),
    ("metrics", ("dev.pypimirror.operator.metrics.", "io.micrometer.")),
    ("HTTP (Vert.x server, Netty codec, body)", ("io.vertx.core.http.", "io.netty.handler.codec.",
                                                 "dev.pypimirror.operator.webhook.WebhookServer",
                                                 "io.vertx.core.buffer.")),
    ("Netty/Vert.x I/O and event loop", ("io.netty.", "sun.nio.", "io.vertx.")),
]


def category(frames):
    for frame in frames:
        for name, prefixes in CATEGORIES:
            if frame.startswith(prefixes):
                return name
    return "other"


def main():
    recording = sys.argv[1]
    jfr = os.environ.get("JFR_TOOL", "jfr")  # the recording JDK's own
    text = subprocess.run([jfr, "print", "--events", "jdk.ExecutionSample", "--stack-depth", "96",
                           recording], capture_output=True, text=True, check=True).stdout
    counts = collections.Counter()
    leaves = collections.Counter()
    for event in text.split("jdk.ExecutionSample {")[1:]:
        stack = event.split("stackTrace = [", 1)[1].split("]\n", 1)[0] if "stackTrace = [" in event else ""
        frames = [line.strip() for line in stack.splitlines() if line.strip() and line.strip() != "..."]
        counts[category(frames)] += 1
        if frames:
            leaves[frames[0].split("(")[0]] += 1
    total = sum(counts.values()) or 1
    gc = subprocess.run([jfr, "print", "--events", "jdk.GarbageCollection", recording],
                        capture_output=True, text=True, check=True).stdout
    pauses = [float(v) * {"s": 1e6, "ms": 1e3, "us": 1, "ns": 1e-3}[u]
              for v, u in re.findall(r"sumOfPauses = ([\d.]+) (s|ms|us|ns)", gc)]
    print("| where (Java execution samples on the server) | share of samples |")
    print("| --- | --- |")
    for name, n in counts.most_common():
        print("| %s | %.1f %% |" % (name, 100.0 * n / total))
    print()
    print("%d samples. Collector: %d pauses, %.1f ms in all, longest %.2f ms."
          % (total, len(pauses), sum(pauses) / 1e3, max(pauses, default=0) / 1e3))
    print()
    print("Top leaf frames: " + "; ".join("%s %.1f %%" % (f, 100.0 * n / total)
                                         for f, n in leaves.most_common(8)) + ".")


if __name__ == "__main__":
    main()
