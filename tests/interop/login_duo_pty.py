"""Runs Debian's login_duo (duo_unix), unmodified, under a pseudo-terminal, as an SSH login
would: `login_duo_pty.py CONFIG USER COMMAND...`. Prints one JSON line with login_duo's exit
code and everything it wrote to the terminal. Used by crates/assent/tests/it/login_duo.rs."""

import json
import os
import pty
import select
import sys
import time

config, user, command = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv("/usr/sbin/login_duo", ["login_duo", "-c", config, "-f", user, *command])
output = b""
status = None
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        done, waited = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            status = waited
            break
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    output += data
if status is None:
    _, status = os.waitpid(pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "output": output.decode(errors="replace")}))
