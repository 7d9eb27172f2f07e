"""Writes cache.jmx: the HTTP Cache Manager (tests/data/runner/fidelity/README.md).
Run: python3 tests/data/runner/fidelity/gen_cache.py
"""
import os
from jmx import el, b, plan, group, http


def cache_manager(use_expires=True, clear=False):
    return el("CacheManager", "CacheManagerGui", "CacheManager", "HTTP Cache Manager", [
        b("clearEachIteration", clear), b("useExpires", use_expires),
        '<intProp name="maxSize">5000</intProp>'])


groups = [
    group("Expires", 1, 3, [
        cache_manager(),
        # max-age: fresh for 10 minutes, so only the first iteration sends it (no sample after).
        http("max-age", "/cache?cc=max-age%3D600"),
        # no-cache: stored without an expiry; later requests are conditional → 304.
        http("etag-no-cache", "/cache?cc=no-cache&etag=v1"),
        http("lm-no-cache", "/cache?cc=no-cache&lm=1"),
        # no-store: never stored, always 200 although it has an ETag.
        http("no-store", "/cache?cc=no-store,max-age%3D600&etag=v2"),
        # An Expires in the past: expired, conditional on the ETag.
        http("expired", "/cache?exp=past&etag=v3"),
        # An Expires in the future without Cache-Control: fresh.
        http("expires-future", "/cache?exp=future"),
        # Last-Modified without Cache-Control or Expires: JMeter 2.13 sets no expiry (the
        # heuristic applies only with a Cache-Control header), so it revalidates.
        http("lm-only", "/cache?lm=1"),
        # A heuristic expiry: Cache-Control without max-age, Last-Modified and Date: fresh for
        # 10 % of (Date − Last-Modified), years here.
        http("heuristic", "/cache?cc=public&lm=1"),
    ]),
    group("Conditional only", 1, 3, [
        cache_manager(use_expires=False),
        # useExpires off: max-age is ignored, and with no validator every request is sent.
        http("max-age-ignored", "/cache?cc=max-age%3D600"),
        http("etag-conditional", "/cache?cc=max-age%3D600&etag=v4"),
    ]),
    group("Clear each iteration", 2, 2, [
        cache_manager(clear=True),
        # Cached per thread and cleared at each iteration: A sends once per iteration and
        # thread, B (same URL) never.
        http("first", "/cache?cc=max-age%3D600&etag=v5"),
        http("second", "/cache?cc=max-age%3D600&etag=v5"),
    ]),
]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cache.jmx"), "w") as f:
    f.write(plan("Runner fidelity: HTTP Cache Manager (2.13)",
                 "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): "
                 "Cache-Control, Expires, ETag, Last-Modified, clear each iteration", groups))
