#!/usr/bin/env python3
"""Checks that the bootstrap `sam build` produced is the deployable arm64 artefact:
a 64-bit little-endian ELF for aarch64 (e_machine 183, EM_AARCH64) and executable,
then prints its path and size; otherwise exits non-zero with a message. template.yaml's
default Architecture is arm64, so a bootstrap built for another machine would deploy
and then fail when Lambda starts it.

Called by scripts/e2e (step 4, once the build is done); standard library only:

    .tools/sam/bin/python scripts/local/check-bootstrap.py .aws-sam/build/FUNCTION/bootstrap
"""
import os, struct, sys
path = sys.argv[1]
head = open(path, "rb").read(20)
machine = struct.unpack("<H", head[18:20])[0] if len(head) == 20 else None
# ELF magic, 64-bit, little-endian, e_machine 183 = EM_AARCH64
if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1 or machine != 183:
    sys.exit(f"e2e: {path} is not a 64-bit little-endian aarch64 ELF (e_machine {machine})")
if not os.access(path, os.X_OK):
    sys.exit(f"e2e: {path} is not executable")
size = os.path.getsize(path)
print(f"   {path}: aarch64 ELF, {size} bytes ({size / 1048576:.1f} MiB)")
