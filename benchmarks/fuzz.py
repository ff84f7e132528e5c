"""Mutated requests against `cbmkg serve`: no answer may be a 500, no worker may be lost, and
no request may reach a listener on 127.0.0.1 that stands for "another machine".

    python benchmarks/fuzz.py [--requests 15000] [--seed 12] [--base URL] [--json FILE]

Without ``--base`` it builds the bundled corpus into a fresh store and starts `cbmkg serve`
itself (2 workers, a 2 s query timeout, an update token, so writes are fuzzed too). The
requests come from a fixed seed: the named queries and a few protocol queries, mutated byte
by byte and token by token (SPARQL keywords, punctuation, quotes, ``\\u`` escapes, comment
and line-end characters, SERVICE and LOAD aimed at the listener), sent by GET, POST form and
POST ``application/sparql-query``; updates to ``/update``; RDF bodies (Turtle, RDF/XML,
JSON-LD, with DTDs and remote contexts) to ``/validate`` and ``/store``; junk in Accept,
``format``, dataset parameters, named-query parameters and linked-data paths.

Prints the count of each status, every 500 (the request that got it, shortened), whether
the listener saw a connection, and the worker processes before and after (a worker replaced
after a 503 at the query timeout is not lost: the count must hold). Exit status 1 when any
of those fails. tests/test_adversarial.py runs it at a small size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "fuzz-token"

WORDS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS",
         "GRAPH", "SERVICE", "SILENT", "LOAD", "FROM", "NAMED", "BIND", "VALUES", "LATERAL", "VERSION",
         "CONCAT", "REPLACE", "REGEX", "STRLEN", "SUBSTR", "COUNT", "GROUP BY", "ORDER BY", "LIMIT",
         "OFFSET", "EXISTS", "NOT", "IN", "AS", "PREFIX", "BASE", "INSERT", "DELETE", "DATA", "USING",
         "WITH", "CLEAR", "DROP", "CREATE", "?s", "?p", "?o", "?x", "_:b", "a", "1", "1e999", "-0",
         "\"x\"@en", "'''y'''", "<<( <a:b> <a:c> <a:d> )>>", "<<", ">>", "~", "^^", "<http://ex/f>(1)"]
PUNCT = list("{}()[]<>.;,|&!=^*+/?$@#'\"\\:_-") + ["\r", "\n", "\t", "\\u0053", "\\u0022", "\\U0000003E",
                                                   "%", "\x00", "\u2028", "é", "数"]
HOSTILE = ["SERVICE <{target}> {{ ?s ?p ?o }}", "SERVICE SILENT <{target}> {{ }}",
           "{{ SERVICE <{target}> {{ ?a ?b ?c }} }}", "LOAD <{target}>", "FROM <{target}>"]


def seed_queries() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    texts += ["SELECT * WHERE { ?s ?p ?o } LIMIT 3", "ASK { ?s a ?c }",
              "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 5",
              "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/cbmkg/graph/findings> WHERE { ?s ?p ?o }",
              "DESCRIBE <https://w3id.org/cbmkg/id/actor/UKR>",
              'SELECT ?x WHERE { BIND(CONCAT("a", "b") AS ?x) FILTER(1 < 2 || "a>" = "b") }']
    return texts


def seed_updates() -> list[str]:
    return ["INSERT DATA { GRAPH <urn:fuzz:g> { <urn:a> <urn:b> 1 } }",
            "DELETE { GRAPH <urn:fuzz:g> { ?s ?p ?o } } WHERE { GRAPH <urn:fuzz:g> { ?s ?p ?o } }",
            "DROP SILENT GRAPH <urn:fuzz:g> ; INSERT { GRAPH <urn:fuzz:g> { ?s ?p 2 } } WHERE { ?s ?p 1 }",
            "CLEAR SILENT GRAPH <urn:fuzz:h>", "WITH <urn:fuzz:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"]


BODIES = [("text/turtle", "@prefix e: <http://e/> . e:x e:p \"1\" , 2 ; e:q [ e:r ( 1 2 ) ] ."),
          ("application/n-triples", "<http://e/x> <http://e/p> \"v\"@en ."),
          ("application/rdf+xml", '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
                                  '22-rdf-syntax-ns#"><rdf:Description rdf:about="http://e/x"/></rdf:RDF>'),
          ("application/rdf+xml", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">'
                                  ']><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                                  '<rdf:Description rdf:about="http://e/&b;"/></rdf:RDF>'),
          ("application/ld+json", '{"@context": "{target}", "@id": "http://e/x", "http://e/p": 1}'),
          ("application/ld+json", '{"@id": "http://e/x", "http://e/p": [[[[[[1]]]]]]}')]


def mutate(text: str, rng: random.Random, target: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        at = rng.randint(0, len(chars))
        if kind < 0.3 and chars:
            del chars[min(at, len(chars) - 1):min(at + rng.randint(1, 8), len(chars))]
        elif kind < 0.6:
            chars[at:at] = list(" " + rng.choice(WORDS) + " ")
        elif kind < 0.85:
            chars[at:at] = list(rng.choice(PUNCT))
        else:
            chars[at:at] = list(" " + rng.choice(HOSTILE).format(target=target) + " ")
    return "".join(chars)


def listener() -> tuple[socket.socket, list[bytes]]:
    """A socket on 127.0.0.1 that stands for another machine: it records whoever calls."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    seen: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            client.settimeout(1)
            try:
                seen.append(client.recv(200) or b"(connected)")
            except OSError:
                seen.append(b"(connected)")
            client.close()

    threading.Thread(target=accept, daemon=True).start()
    return sock, seen


def requests_for(rng: random.Random, count: int, target: str) -> list[dict[str, object]]:
    queries, updates = seed_queries(), seed_updates()
    out: list[dict[str, object]] = []
    for _ in range(count):
        roll = rng.random()
        accept = rng.choice([None, "text/csv", "application/sparql-results+json; charset=utf-8",
                             "text/turtle;q=0.5, */*;q=0.1", "image/png", "text/html", ";;;", "*/*"])
        headers = {"Accept": accept} if accept else {}
        if roll < 0.6:
            query = mutate(rng.choice(queries), rng, target)
            how = rng.choice(["get", "form", "direct"])
            params: dict[str, str] = {}
            if rng.random() < 0.1:
                params["format"] = rng.choice(["json", "rdf+xml", "csv", "nonsense", ""])
            if rng.random() < 0.05:
                params["default-graph-uri"] = rng.choice(["not an iri", "urn:x", target,
                                                          "https://w3id.org/cbmkg/graph/findings"])
            if how == "get":
                out.append({"method": "GET", "path": "/sparql", "params": {"query": query, **params},
                            "headers": headers})
            elif how == "form":
                out.append({"method": "POST", "path": "/sparql", "data": {"query": query, **params},
                            "headers": headers})
            else:
                out.append({"method": "POST", "path": "/sparql", "params": params,
                            "data": query.encode("utf-8", "surrogatepass"),
                            "headers": {**headers, "Content-Type": "application/sparql-query"}})
        elif roll < 0.75:
            update = mutate(rng.choice(updates), rng, target)
            out.append({"method": "POST", "path": "/update", "data": {"update": update},
                        "headers": {**headers, "Authorization": rng.choice([f"Bearer {TOKEN}", f"bearer {TOKEN}",
                                                                            "Bearer x"])}})
        elif roll < 0.85:
            media, body = rng.choice(BODIES)
            body = body.replace("{target}", target)
            if rng.random() < 0.5:
                body = mutate(body, rng, target)
            path = rng.choice(["/validate", "/store?graph=urn:fuzz:s", "/store"])
            method = "POST" if path != "/store?graph=urn:fuzz:s" or rng.random() < 0.5 else "PUT"
            out.append({"method": method, "path": path, "data": body.encode("utf-8", "surrogatepass"),
                        "headers": {**headers, "Content-Type": media, "Authorization": f"Bearer {TOKEN}"}})
        else:
            junk = mutate(rng.choice(["ARM", "vd2011", "a\"b", "x y", "%22", "actor/UKR"]), rng, target)
            path = rng.choice([f"/doc/id/{quote(junk, safe='')}", f"/id/{quote(junk, safe='/')}",
                               f"/queries/obligations?instrument={quote(junk)}",
                               f"/queries/events?reported_by={quote(junk)}",
                               f"/store?graph={quote(junk)}", f"/queries/{quote(junk, safe='')}", "/.well-known/void",
                               f"/ui?query={quote(junk)}"])
            out.append({"method": rng.choice(["GET", "HEAD", "OPTIONS", "DELETE"]), "path": path,
                        "headers": {**headers, "Authorization": f"Bearer {TOKEN}"}})
    return out


def workers_of(master: int) -> set[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return set()
    return {int(c) for c in children}


def run(base: str, count: int, seed: int, master: int | None = None) -> dict[str, object]:
    sock, seen = listener()
    target = f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"
    rng = random.Random(seed)
    session = requests.Session()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    before = workers_of(master) if master else set()
    started = time.monotonic()
    for req in requests_for(rng, count, target):
        try:
            answer = session.request(str(req["method"]), base + str(req["path"]), params=req.get("params"),  # type: ignore[arg-type]  # built above
                                     data=req.get("data"), headers=req.get("headers"), timeout=60,  # type: ignore[arg-type]
                                     allow_redirects=False)
            statuses[answer.status_code] += 1
            if answer.status_code >= 500 and answer.status_code != 503:
                failures.append(f"{answer.status_code} {req['method']} {req['path']} "
                                f"{str(req.get('params') or req.get('data'))[:300]!r}: {answer.text[:200]!r}")
        except requests.RequestException as e:
            statuses[0] += 1
            failures.append(f"no answer: {req['method']} {req['path']} "
                            f"{str(req.get('params') or req.get('data'))[:300]!r}: {e}")
    seconds = time.monotonic() - started
    time.sleep(1.0)  # a call the server made at the end would be accepted by now
    sock.close()
    after = workers_of(master) if master else set()
    return {"requests": count, "seed": seed, "seconds": round(seconds, 1),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}, "failures": failures,
            "listener_saw": [s.decode("latin-1")[:120] for s in seen],
            "workers_before": len(before), "workers_after": len(after),
            "master_alive": master is None or Path(f"/proc/{master}").exists()}


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "CBMKG_STORE": str(folder / "store")}
    subprocess.run([sys.executable, "-m", "cbmkg.cli", "build"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.update({"CBMKG_WORKERS": "2", "CBMKG_QUERY_TIMEOUT": "2", "CBMKG_UPDATE_TOKEN": TOKEN,
                "CBMKG_PORT": str(port)})
    process = subprocess.Popen([sys.executable, "-m", "cbmkg.cli", "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            requests.get(base + "/healthz", timeout=5)
            return process, base
        except requests.RequestException:
            time.sleep(0.25)
    raise SystemExit("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=15000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--base", help="a running cbmkg serve (default: start one)")
    parser.add_argument("--master", type=int, help="its gunicorn master's pid (to count workers)")
    parser.add_argument("--json", help="write the result here too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cbmkg-fuzz-") as tmp:
        process = None
        base, master = args.base, args.master
        if base is None:
            process, base = _serve(Path(tmp))
            master = process.pid
        try:
            result = run(base, args.requests, args.seed, master)
        finally:
            if process is not None:
                process.terminate()
                process.wait(30)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    ok = not result["failures"] and not result["listener_saw"] and result["master_alive"] and \
        result["workers_after"] == result["workers_before"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
