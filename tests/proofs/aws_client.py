"""`aws ARGS...` through tests/proofs/aws_server.py (socket: $EAD_AWS_SERVER): hands it this
process's argv, environment, working directory and stdin/stdout/stderr, and exits with
the status of the CLI run there. Run with `python -I -S` so it starts in milliseconds."""

import json
import os
import signal
import socket
import struct
import sys


def main():
    request = json.dumps({"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.environ["EAD_AWS_SERVER"])
        socket.send_fds(sock, [struct.pack("!I", len(request))], [0, 1, 2])
        sock.sendall(request)
        status = b""
        while len(status) < 4:
            chunk = sock.recv(4 - len(status))
            if not chunk:
                break
            status += chunk
    except OSError as e:
        status = b""
        print("aws client: %s" % e, file=sys.stderr)
    if len(status) != 4:
        print("aws client: the AWS CLI server gave no exit status", file=sys.stderr)
        return 255
    code = struct.unpack("!i", status)[0]
    if code < 0:  # killed by a signal: die of it too, as the CLI did
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main())
