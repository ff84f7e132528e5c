"""The second layer against outbound requests: a ``cbmkg serve`` worker over the embedded
store with no SERVICE allow-list cannot open an internet socket at all.

Oxigraph makes the HTTP request of a ``SERVICE`` or ``LOAD`` itself, and pyoxigraph offers
no way to refuse or handle one (its Rust ``SparqlEvaluator`` has service handlers, the
Python binding does not expose them). So besides reading every request's text
(``safety.py``), the worker asks the kernel (seccomp, through libseccomp) to fail every
``socket()`` call of a family other than ``AF_UNIX`` with ``EACCES``, in all its threads,
for the rest of its life. Such a worker needs no socket of its own: it accepts clients on
the listening socket gunicorn opened before, which ``accept()`` serves as before. Oxigraph
then meets "permission denied" before any connection or name lookup, which the store
reports as :class:`~cbmkg.errors.OutboundRefused` (403).

Not applied with a remote store (the worker talks to it over TCP) or an allow-list (the
listed SERVICE calls need the network): there the first layer stands alone.
"""

from __future__ import annotations

import errno
import logging
import socket

log = logging.getLogger("cbmkg.server.sandbox")

_closed = False


def close_network() -> bool:
    """Forbid this process, all its threads and children, to open non-local sockets; True
    when the kernel took the filter (also when it had before)."""
    global _closed
    if _closed:
        return True
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)  # every thread, not only this one
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        # io_uring can make sockets without socket(): nothing here uses it
        rules.add_rule(seccomp.ERRNO(errno.EACCES), "io_uring_setup")
        rules.load()
    except (ImportError, OSError, RuntimeError, ValueError) as e:  # no libseccomp, or a kernel without seccomp
        log.warning("outbound connections cannot be closed off by the kernel here (%s); "
                    "SERVICE and LOAD are still refused by reading each request", e)
        return False
    _closed = True
    return True


def network_closed() -> bool:
    return _closed
