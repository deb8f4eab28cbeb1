#!/usr/bin/env python3
"""Placement by the algorithm of the Python `hash_ring` package (the ring
django-redisdb shards with), computed with Python's hashlib and bisect.

The package is not installable here, so this follows its published
algorithm step by step:

* total weight = sum of node weights (default 1), in node order;
* node gets floor(40 * len(nodes) * weight / total) digests
  md5("%s-%s" % (node, j)); each digest gives three points, the
  little-endian uint32 of digest bytes 0-3, 4-7 and 8-11;
* the ring maps point -> node, written in node order (a later node
  overwrites an earlier one on a shared point); the points are sorted;
* a key's hash is the little-endian uint32 of md5(key) bytes 0-3, and its
  node is ring[sorted[bisect(sorted, hash)]], with position 0 past the end.

django-redisdb's nodes stringify to their position in the server list, so
the node labels passed in are "0", "1", ...

Reads JSON from stdin:
  {"cases": [{"labels": [...], "weights": [...], "keys": [...], "hashes": [...]}]}
and writes, per case, the sorted points with their owners and the node
label of every key and raw hash.
"""

import hashlib
import json
import math
import sys
from bisect import bisect


def digest_bytes(text):
    return list(hashlib.md5(text.encode("utf-8")).digest())


def word(b, offset):
    return (b[offset + 3] << 24) | (b[offset + 2] << 16) | (b[offset + 1] << 8) | b[offset]


class Ring:
    def __init__(self, labels, weights):
        self.ring = {}
        self.sorted_points = []
        total = 0
        for label in labels:
            total += weights[label]
        for label in labels:
            factor = math.floor((40 * len(labels) * weights[label]) / total)
            for j in range(int(factor)):
                b = digest_bytes("%s-%s" % (label, j))
                for i in range(3):
                    point = word(b, i * 4)
                    self.ring[point] = label
                    self.sorted_points.append(point)
        self.sorted_points.sort()

    def node_for_hash(self, h):
        pos = bisect(self.sorted_points, h)
        if pos == len(self.sorted_points):
            pos = 0
        return self.ring[self.sorted_points[pos]]

    def key_hash(self, key):
        return word(digest_bytes(key), 0)


def main():
    spec = json.load(sys.stdin)
    results = []
    for case in spec["cases"]:
        labels = case["labels"]
        weights = dict(zip(labels, case["weights"]))
        ring = Ring(labels, weights)
        results.append({
            "points": [[p, ring.ring[p]] for p in ring.sorted_points],
            "keys": [[k, ring.key_hash(k), ring.node_for_hash(ring.key_hash(k))] for k in case["keys"]],
            "hashes": [[h, ring.node_for_hash(h)] for h in case["hashes"]],
        })
    json.dump({"python": sys.version.split()[0], "results": results}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
