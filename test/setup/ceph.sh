#!/usr/bin/env bash
# A throwaway single-node Ceph cluster (1 mon, 1 memstore OSD, radosgw) on 127.0.0.1, for the S3 store tests and
# benchmarks. Runs every daemon in the foreground as a child of this script and stays in the foreground itself:
# kill this script's process group (or press Ctrl-C) and everything stops. Prints `CEPH READY` once radosgw answers
# and the S3 user exists.
#
# usage: test/setup/ceph.sh DIR MON_PORT RGW_PORT ACCESS_KEY SECRET_KEY [MEMSTORE_BYTES]
#   DIR is created and holds config, data and logs (the caller removes it). Run it by hand to debug:
#   bash test/setup/ceph.sh /tmp/ceph-debug 16789 17480 TESTACCESSKEY0000000 testsecretkey && tail -f /tmp/ceph-debug/log/*
set -euo pipefail

dir=${1:?DIR}
mon_port=${2:?MON_PORT}
rgw_port=${3:?RGW_PORT}
access_key=${4:?ACCESS_KEY}
secret_key=${5:?SECRET_KEY}
memstore_bytes=${6:-4294967296}

for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
  command -v "$bin" >/dev/null || { echo "ceph.sh: missing binary $bin (apt-get install radosgw ceph-mon ceph-osd)" >&2; exit 127; }
done

mkdir -p "$dir"/{mon,osd,run,log,rgw}
conf="$dir/ceph.conf"
fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)

cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon data = $dir/mon/\$name
osd data = $dir/osd/\$name
keyring = $dir/keyring
crash dir = $dir/crash
exec dir = $dir/run

[osd]
osd objectstore = memstore
memstore device bytes = $memstore_bytes
osd max object size = 1073741824

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
ms mon client mode = crc
rgw dns name = localhost
rgw thread pool size = 64
EOF

children=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${children[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

c=(-c "$conf")

monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap"
ceph-mon "${c[@]}" -f -i a &
children+=($!)

# wait for the mon to answer (bounded)
for i in $(seq 1 100); do
  if timeout 5 ceph "${c[@]}" --connect-timeout 3 mon stat >/dev/null 2>&1; then break; fi
  [ "$i" = 100 ] && { echo "ceph.sh: mon did not come up (see $dir/log)" >&2; exit 1; }
  if ! kill -0 "${children[0]}" 2>/dev/null; then echo "ceph.sh: ceph-mon exited (see $dir/log)" >&2; exit 1; fi
  sleep 0.2
done

osd_id=$(ceph "${c[@]}" osd new "$osd_uuid")
mkdir -p "$dir/osd/osd.$osd_id"
ceph-osd "${c[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >/dev/null
ceph-osd "${c[@]}" -f -i "$osd_id" &
children+=($!)

for i in $(seq 1 150); do
  if timeout 5 ceph "${c[@]}" --connect-timeout 3 osd stat 2>/dev/null | grep -q '1 up'; then break; fi
  if ! kill -0 "${children[1]}" 2>/dev/null; then echo "ceph.sh: ceph-osd exited (see $dir/log)" >&2; exit 1; fi
  [ "$i" = 150 ] && { echo "ceph.sh: osd did not come up (see $dir/log)" >&2; exit 1; }
  sleep 0.2
done

radosgw "${c[@]}" -n client.rgw -f &
children+=($!)

for i in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$rgw_port") 2>/dev/null; then break; fi
  [ "$i" = 300 ] && { echo "ceph.sh: radosgw did not listen on $rgw_port (see $dir/log)" >&2; exit 1; }
  if ! kill -0 "${children[2]}" 2>/dev/null; then echo "ceph.sh: radosgw exited (see $dir/log)" >&2; exit 1; fi
  sleep 0.2
done

radosgw-admin "${c[@]}" -n client.rgw user create --uid=test --display-name=test \
  --access-key="$access_key" --secret-key="$secret_key" >/dev/null

echo "CEPH READY"
# stay in the foreground so the caller owns every daemon through this process group; if the caller dies without
# stopping us (a test runner killed hard), take the daemons down too
parent=$PPID
while kill -0 "$parent" 2>/dev/null; do
  for pid in "${children[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "ceph.sh: a daemon exited (see $dir/log)" >&2; exit 1; }
  done
  sleep 1
done
echo "ceph.sh: caller $parent is gone, stopping" >&2
exit 0
