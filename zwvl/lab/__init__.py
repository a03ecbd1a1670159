"""The fibre backbone as a lab of network namespaces, built from NetBox (`zwvl lab up|down|status`).

Python API (stable; the exporter and the tests use it). All calls need root; none talks to NetBox
except :func:`zwvl.lab.source.load_spec`::

    from zwvl.lab import Lab

    lab = Lab()                                   # the 'main' lab; Lab("t1") for another one
    for r in lab.routers():                       # RouterInfo: name, namespace, loopback, pid, init_pid,
        print(r.name, r.namespace, r.loopback)    #             alive, daemons {"zebra": True, ...}
    lab.vtysh("kor-th-rtr01", "show ip ospf neighbor")        # -> str
    lab.vtysh_json("kor-th-rtr01", "show ip ospf neighbor")   # -> decoded JSON (" json" appended)
    lab.exec("kor-th-rtr01", ["ip", "-j", "route"])            # CompletedProcess, inside the router
    lab.cut_link("ZWVL-FO-0057", mode="down")     # or mode="silent" (nftables drop); lab.restore_link(cid)
    lab.adjacencies()                             # {cid: {router: "Full/-"}}
    lab.unreachable()                             # {router: {routers whose loopback did not answer}}
    lab.spec()                                    # LabSpec the lab was built from (routers, links)
    lab.ssh_config                                # ssh -F file: ProxyCommand ip netns exec <ns> nc %h %p

Namespaces are ``zl-<router>`` (``zl-<lab>.<router>`` for a lab not named ``main``); the state is in
``$ZWVL_LAB_DIR`` (default ``/run/zwvl-lab``). See :mod:`zwvl.lab.runtime` for how a router is built;
:class:`Lab` is a facade over :mod:`~zwvl.lab.state` (folder, ``lab.json``, lock, status),
:mod:`~zwvl.lab.routerfs` (each router's files, from ``zwvl/lab/templates/``), :mod:`~zwvl.lab.netns`
(namespaces, veth links, cut and restore), :mod:`~zwvl.lab.processes` (router processes by PID) and
:mod:`~zwvl.lab.probes` (daemons, pings, OSPF neighbours).
"""

from zwvl.lab.errors import LabError
from zwvl.lab.netns import namespace_name
from zwvl.lab.runtime import Lab
from zwvl.lab.spec import End, LabSpec, Link, Router, SpecError
from zwvl.lab.state import LabStatus, LinkInfo, RouterInfo

__all__ = [
    "End",
    "Lab",
    "LabError",
    "LabSpec",
    "LabStatus",
    "Link",
    "LinkInfo",
    "Router",
    "RouterInfo",
    "SpecError",
    "namespace_name",
]
