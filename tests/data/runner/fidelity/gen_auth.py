"""Writes auth.jmx: the HTTP Authorization Manager with Basic authentication
(tests/data/runner/fidelity/README.md). Run: python3 tests/data/runner/fidelity/gen_auth.py
"""
import os
from jmx import el, s, plan, group, http

BASE = "http://127.0.0.1:${__P(fixture.port,18213)}"


def auth_manager(entries):
    items = "".join(
        '<elementProp name="" elementType="Authorization">'
        + s("Authorization.url", url) + s("Authorization.username", user)
        + s("Authorization.password", password) + s("Authorization.domain", "")
        + s("Authorization.realm", "") + s("Authorization.mechanism", "BASIC_DIGEST")
        + "</elementProp>"
        for url, user, password in entries)
    return el("AuthManager", "AuthPanel", "AuthManager", "HTTP Authorization Manager",
              [f'<collectionProp name="AuthManager.auth_list">{items}</collectionProp>'])


groups = [
    group("Auth", 1, 2, [
        auth_manager([
            (BASE + "/basic-auth?user=alice", "alice", "secret"),
            (BASE + "/basic-auth?user=carol", "carol", "wrong"),
        ]),
        # The first entry's URL prefixes this one: right credentials.
        http("auth-ok", "/basic-auth?user=alice&pass=secret"),
        # The second entry: wrong password, 401 in the end.
        http("auth-wrong", "/basic-auth?user=carol&pass=secret"),
        # No entry for bob: no credentials, 401.
        http("auth-none", "/basic-auth?user=bob&pass=x"),
    ]),
    # No Authorization Manager in this group's scope.
    group("No manager", 1, 1, [http("no-manager", "/basic-auth?user=alice&pass=secret")]),
]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "auth.jmx"), "w") as f:
    f.write(plan("Runner fidelity: HTTP Authorization Manager (2.13)",
                 "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): "
                 "Basic authentication by URL prefix", groups))
