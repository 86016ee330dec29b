#!/usr/bin/env python3
"""Runs the process of an OCI runtime bundle (as `umoci unpack` writes it)
with a plain chroot: no container runtime, no namespaces. It takes args, env,
cwd, uid and gid from BUNDLE/config.json, which umoci derived from the image
config, so it checks imagespec's config through an independent translation.

usage: runbundle.py BUNDLE [ARG...]   (ARGs replace process.args)
Must run as root.
"""
import warnings  # noqa: loaded before the chroot: os.execvpe needs it afterwards
import json
import os
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: runbundle.py BUNDLE [ARG...]")
    bundle = sys.argv[1]
    with open(os.path.join(bundle, "config.json")) as f:
        cfg = json.load(f)
    proc = cfg.get("process", {})
    args = sys.argv[2:] or proc.get("args") or []
    if not args:
        sys.exit("runbundle: the bundle has no process.args")
    env = {}
    for e in proc.get("env", []):
        k, _, v = e.partition("=")
        env[k] = v
    root = cfg.get("root", {}).get("path", "rootfs")
    if not os.path.isabs(root):
        root = os.path.join(bundle, root)
    user = proc.get("user", {})
    sys.stdout.flush()
    os.chroot(root)
    os.chdir(proc.get("cwd") or "/")
    os.setgroups(user.get("additionalGids") or [])
    os.setgid(user.get("gid", 0))
    os.setuid(user.get("uid", 0))
    # execvpe searches the PATH of `env`, i.e. the image's PATH.
    os.execvpe(args[0], args, env)


if __name__ == "__main__":
    main()
