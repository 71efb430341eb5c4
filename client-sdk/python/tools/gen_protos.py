#!/usr/bin/env python3
"""Generates the linebridge.v1 messages and stubs from proto/ into a package tree.

    gen_protos.py OUT_DIR [--copy-sources]

writes OUT_DIR/linebridge/v1/*_pb2.py and *_pb2_grpc.py with protoc and
grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc), or
with grpc_tools.protoc when that is installed instead. --copy-sources also
copies the hand-written package next to them (the build tree's importable
copy).
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
PROTO_ROOT = os.path.normpath(os.path.join(PACKAGE_ROOT, "..", "..", "proto"))


def protoc_command(out_dir):
    protos = sorted(glob.glob(os.path.join(PROTO_ROOT, "linebridge", "v1", "*.proto")))
    if not protos:
        sys.exit(f"gen_protos: no .proto files under {PROTO_ROOT}/linebridge/v1")
    rel = [os.path.relpath(p, PROTO_ROOT) for p in protos]
    plugin = shutil.which("grpc_python_plugin")
    protoc = shutil.which("protoc")
    args = [f"-I{PROTO_ROOT}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    if protoc and plugin:
        return [protoc, f"--plugin=protoc-gen-grpc_python={plugin}", *args, *rel]
    try:
        import grpc_tools  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        sys.exit("gen_protos: need protoc and grpc_python_plugin (Debian: protobuf-compiler "
                 "protobuf-compiler-grpc), or the grpcio-tools package")
    return [sys.executable, "-m", "grpc_tools.protoc", *args, *rel]


def generate(out_dir):
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(protoc_command(out_dir), check=True, cwd=PROTO_ROOT)
    init = os.path.join(out_dir, "linebridge", "v1", "__init__.py")
    with open(init, "w", encoding="utf-8") as f:
        f.write('"""Generated from proto/linebridge/v1 (messages *_pb2, stubs *_pb2_grpc)."""\n')


def copy_sources(out_dir):
    src = os.path.join(PACKAGE_ROOT, "linebridge")
    dst = os.path.join(out_dir, "linebridge")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--copy-sources", action="store_true")
    parser.add_argument("--stamp")
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out_dir, "linebridge"), exist_ok=True)
    generate(args.out_dir)
    if args.copy_sources:
        copy_sources(args.out_dir)
    if args.stamp:
        with open(args.stamp, "w", encoding="utf-8") as f:
            f.write("ok\n")


if __name__ == "__main__":
    main()
