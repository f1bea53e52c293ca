# The AWS CLI v2 that Debian ships, run for the tests without starting its interpreter afresh each
# call. `/usr/bin/aws` is a Python script that imports awscli.clidriver and returns main()'s code;
# those imports cost about a second of CPU per call, most of the CLI's cost, and the tests make
# hundreds of calls. This server imports them once, then for each call forks and runs the same
# main() in the child, with the call's arguments, environment, working directory, stdout and
# stderr: the CLI's own code parses, signs, sends and prints, exactly as /usr/bin/aws would.
#
# Protocol, on the unix socket given as the first argument: a client connects and sends one line of
# JSON {"argv": [...], "env": {...}, "cwd": "...", "stdout": PATH, "stderr": PATH}; the server
# answers one line, the exit code, once the call has ended, and closes the connection.
import ctypes
import json
import os
import signal
import socket
import sys

before_import = dict(os.environ)
import awscli.clidriver
# What main() imports as it registers its handlers: imported here, once, not in every child.
import awscli.handlers  # noqa: F401
import awscli.paramfile  # noqa: F401
# The CLI names the Linux distribution in its user agent; the distro package reads it once per
# process, running lsb_release (several processes) to do so: read here, every child has it.
import distro
distro.id()
distro.major_version()
# What importing the CLI put in its environment (its data path): a fresh process would have it too.
SET_BY_IMPORT = {k: v for k, v in os.environ.items() if before_import.get(k) != v}

PR_SET_PDEATHSIG = 1


def run(request):
    """In the forked child: the call, as /usr/bin/aws runs it; returns its exit code."""
    os.environ.clear()
    os.environ.update(request['env'])
    os.environ.update(SET_BY_IMPORT)
    if os.environ.get('LC_CTYPE', '') == 'UTF-8':
        os.environ['LC_CTYPE'] = 'en_US.UTF-8'
    os.chdir(request['cwd'])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request['stdout']), (2, request['stderr'])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    sys.argv = ['aws', *request['argv']]
    try:
        code = awscli.clidriver.main()
    except SystemExit as e:
        code = e.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def serve(path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    print('ready', flush=True)
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            code = 1
            try:
                with conn.makefile('r') as f:
                    request = json.loads(f.readline())
                code = run(request)
            finally:
                try:
                    conn.sendall(f'{code}\n'.encode())
                finally:
                    os._exit(code & 0xFF)
        conn.close()


if __name__ == '__main__':
    # It serves one test process: it ends when that process does, however that ends.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:
        sys.exit(1)
    # Children are reaped by the kernel; a child puts its own default back for what it spawns.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGCHLD, signal.SIG_DFL))
    serve(sys.argv[1])
