"""The real AWS CLI with its imports done once, for tests/proofs/cli_proof.py.

    .tools/sam/bin/python tests/proofs/aws_server.py SOCKET REAL_AWS

A fresh `aws` process spends most of its ~0.7 s importing awscli and botocore. This
server does those imports once (what the `aws` script imports, and the built-in plugins
every driver loads), then forks one child per call: the child takes the caller's stdin,
stdout and stderr (passed over the socket), environment, working directory and argv, and
runs the `aws` script itself (REAL_AWS) as `__main__`, so the CLI parses the real argv,
sends the real request and exits as a fresh process would. Each call starts from the same
just-imported state and nothing of one call reaches another. The parent reports each
child's exit status to its caller (tests/proofs/aws_client.py).

Linux only (os.pidfd_open, SCM_RIGHTS); cli_proof.py runs `aws` directly elsewhere.
"""

import os
import selectors
import socket
import struct
import sys


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("caller went away")
        data += chunk
    return data


def receive(conn):
    """-> (fds, request) of one call: header and stdio fds, then the JSON request."""
    conn.settimeout(30)
    head, fds, _, _ = socket.recv_fds(conn, 4, 3)
    try:
        head += recv_exact(conn, 4 - len(head))
        if len(fds) != 3:
            raise ConnectionError("expected 3 fds, got %d" % len(fds))
        request = recv_exact(conn, struct.unpack("!I", head)[0])
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    conn.settimeout(None)
    return fds, request


def serve(path):
    """Serves calls until killed or cli_proof.py is gone; returns only in a forked child,
    with its call."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    sel.register(0, selectors.EVENT_READ, "parent")  # stdin: a pipe from cli_proof.py
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "parent":  # cli_proof.py is gone (its end closed): so are we
                os._exit(0)
            if key.data is not None:  # a child exited: its status to its caller
                pid, conn = key.data
                sel.unregister(key.fileobj)
                os.close(key.fileobj)
                _, status = os.waitpid(pid, 0)
                try:
                    conn.sendall(struct.pack("!i", os.waitstatus_to_exitcode(status)))
                except OSError:
                    pass  # the caller was killed (script timeout)
                conn.close()
                continue
            conn, _ = listener.accept()
            try:
                fds, request = receive(conn)
            except (OSError, ValueError) as e:
                print("aws server: bad call: %r" % e, file=sys.stderr, flush=True)
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                # The child keeps only its caller's stdio.
                for k in list(sel.get_map().values()):
                    if isinstance(k.data, tuple):
                        os.close(k.fileobj)
                        k.data[1].close()
                sel.close()
                listener.close()
                conn.close()
                return fds, request
            for fd in fds:
                os.close(fd)
            sel.register(os.pidfd_open(pid), selectors.EVENT_READ, (pid, conn))


def main():
    import gc
    import json
    import runpy

    sock_path, real_aws = sys.argv[1], sys.argv[2]
    # As when the aws script runs: its directory first on sys.path, then its imports.
    sys.path[0] = os.path.dirname(real_aws)
    import awscli
    import awscli.clidriver  # noqa: F401  the aws script's import
    import awscli.handlers  # noqa: F401  the built-in plugins every driver loads

    # The imported objects live as long as any child: kept out of its garbage collections,
    # which would otherwise walk (and copy) every page of them.
    gc.freeze()
    fds, request = serve(sock_path)
    call = json.loads(request)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(call["cwd"])
    os.environ.clear()
    os.environ.update(call["env"])
    # What `import awscli` does to a fresh process's environment, done with the caller's.
    paths = [os.path.expanduser(os.path.expandvars(p))
             for p in os.environ["AWS_DATA_PATH"].split(os.pathsep)] if "AWS_DATA_PATH" in os.environ else []
    paths.append(os.path.join(os.path.dirname(os.path.abspath(awscli.__file__)), "data"))
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(paths)
    awscli._awscli_data_path = paths
    sys.argv = [real_aws] + call["argv"]
    # The aws script ends in sys.exit(main()): the interpreter exits as a fresh one would.
    runpy.run_path(real_aws, run_name="__main__")


if __name__ == "__main__":
    main()
