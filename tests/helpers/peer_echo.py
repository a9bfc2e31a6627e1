#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""peer_echo.py NAME tcp|udp 4|6 PORT

Answers every TCP connection or UDP datagram on PORT (every address of the family; IPv6 only
for 6) with "NAME peer=ADDR", ADDR written as socat's SOCAT_PEERADDR is (IPv6 fully expanded,
in brackets). One process, no fork per client: on a loaded machine a fork and exec per datagram
made answers late enough for the client to give up. A TCP client's bytes are read to its
end before the close (closing with unread bytes would send a reset that can overtake the answer).
"""
import ipaddress
import socket
import sys
import threading


def peer(addr):
    ip = ipaddress.ip_address(addr[0].split("%")[0])
    return f"[{ip.exploded}]" if ip.version == 6 else str(ip)


def listen(kind, family, port):
    fam = socket.AF_INET6 if family == "6" else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", port))
    if kind == "tcp":
        s.listen(64)
    return s


def tcp_client(conn, addr, name):
    with conn:
        conn.settimeout(5)
        try:
            conn.sendall(f"{name} peer={peer(addr)}\n".encode())
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(4096):
                pass
        except OSError:
            pass


def main():
    if len(sys.argv) != 5 or sys.argv[2] not in ("tcp", "udp") or sys.argv[3] not in ("4", "6"):
        sys.exit(__doc__.strip().splitlines()[0])
    name, kind, family, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    s = listen(kind, family, port)
    while True:
        if kind == "udp":
            _, addr = s.recvfrom(65535)
            s.sendto(f"{name} peer={peer(addr)}\n".encode(), addr)
        else:
            conn, addr = s.accept()
            threading.Thread(target=tcp_client, args=(conn, addr, name), daemon=True).start()


if __name__ == "__main__":
    main()
