#!/bin/bash
# Started by zwvl.lab as the only child of tini (PID 1 of the router's PID namespace), already inside
# the router's network, mount and UTS namespaces. Arguments: router name, router folder.
set -euo pipefail
router=$1
root=$2
exec 9<"$root"   # reach the router folder by descriptor: the bind mounts below may hide its path
for pair in etc/frr:/etc/frr etc/ssh:/etc/ssh etc/hostname:/etc/hostname var/log:/var/log \
            root:/root tmp:/tmp run:/run; do
  mount --bind "/proc/self/fd/9/${pair%%:*}" "${pair#*:}"
done
exec 9<&-
hostname "$router"
/usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log
/usr/lib/frr/frrinit.sh start >/var/log/frrinit.log 2>&1
: >/run/zwvl-lab-ready
exec sleep infinity
