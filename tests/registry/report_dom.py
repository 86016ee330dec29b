#!/usr/bin/env python3
"""Reads what headless Chromium made of a report page, for report.sh.

  report_dom.py dom FILE   the DOM Chromium dumped (--dump-dom), as JSON:
                           the summary's and every layer's data-* attributes,
                           each layer's entries (data-* and shown text), its
                           changes, the config rows, and every tag name seen
                           with its count (an element a payload created shows
                           up there)
  report_dom.py layout DIR  writes an OCI layout (tag x) whose one layer
                           has names no builder makes: not UTF-8, with a tab,
                           with an ANSI escape, with ../ and a leading /
  report_dom.py png FILE   "WIDTHxHEIGHT COLOURS": the screenshot's size and
                           how many distinct pixel values it has (a blank or
                           broken page has one or two)

Python's own html.parser and zlib only: nothing of imagespec's."""
import gzip
import hashlib
import io
import json
import os
import struct
import tarfile
import sys
import zlib
from html.parser import HTMLParser

VOID = {"meta", "br", "img", "input", "link", "hr", "wbr", "source", "area", "base", "col", "embed", "track"}


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.stack = []  # (tag, attrs, capture)
        self.summary = None
        self.layers = []
        self.layer = None
        self.entry = None
        self.config = {}
        self.row = None
        self.texts = []
        self.change = None
        self.scripts = []
        self.in_script = False
        self.against = None
        self.in_td = False
        self.history = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        cls = (a.get("class") or "").split()
        if tag == "script":
            self.in_script = True
            self.scripts.append("")
        if tag == "header" and a.get("id") == "summary":
            self.summary = {k: v for k, v in a.items() if k.startswith("data-")}
        if a.get("id") == "against":
            self.against = {k: v for k, v in a.items() if k.startswith("data-")}
        if tag == "section" and "layer" in cls:
            self.layer = {k: v for k, v in a.items() if k.startswith("data-")}
            self.layer["entries_shown"] = []
            self.layer["changes"] = {"added": [], "removed": [], "changed": []}
            self.layers.append(self.layer)
        if "entry" in cls and self.layer is not None:
            self.entry = {k: v for k, v in a.items() if k.startswith("data-")}
            self.entry["text"] = ""
            self.layer["entries_shown"].append(self.entry)
        if tag == "details" and "changes" in cls and self.layer is not None:
            self.layer["change"] = {k: v for k, v in a.items() if k.startswith("data-")}
        if tag == "li" and self.layer is not None:
            for k in ("added", "removed", "changed"):
                if k in cls:
                    self.layer["changes"][k].append(a.get("data-path"))
        if tag == "li" and "data-empty-layer" in a:
            self.history += 1
        if tag == "tr" and a.get("data-key"):
            self.row = a["data-key"]
            self.config[self.row] = ""
        if tag == "td":
            self.in_td = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False
        if tag == "span":
            self.entry = None
        if tag == "section":
            self.layer = None
        if tag == "tr":
            self.row = None
        if tag == "td":
            self.in_td = False
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        if self.in_script:
            self.scripts[-1] += data
        if self.entry is not None:
            self.entry["text"] += data
        if self.row is not None and self.in_td:
            self.config[self.row] += data
        self.texts.append(data)


def dom(path):
    p = Dom()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    p.close()
    out = {
        "summary": p.summary,
        "against": p.against,
        "layers": p.layers,
        "config": p.config,
        "history": p.history,
        "tags": p.tags,
        "scripts": p.scripts,
        "text": "".join(p.texts),
    }
    json.dump(out, sys.stdout)


def png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        print("not-a-png")
        return
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    # the filtered rows: distinct 4-byte groups are a lower bound's proxy
    # for distinct colours, enough to tell a drawn page from a blank one
    seen = set()
    for i in range(0, len(raw) - 4, 4):
        seen.add(raw[i:i + 4])
        if len(seen) > 1000:
            break
    print("%dx%d %d" % (w, h, len(seen)))


HOSTILE = [b"bad\xff\xfe.txt".decode("latin-1"), "tab\there", "esc\x1b[31mred", "../../etc/passwd", "/abs/path"]


def layout(d):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as t:
        for name in HOSTILE:
            ti = tarfile.TarInfo(name)
            ti.size = 1
            t.addfile(ti, io.BytesIO(b"x"))
    tarb = buf.getvalue()
    gz = gzip.compress(tarb, mtime=0)
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)

    def put(b):
        h = hashlib.sha256(b).hexdigest()
        with open(os.path.join(d, "blobs", "sha256", h), "wb") as f:
            f.write(b)
        return {"digest": "sha256:" + h, "size": len(b)}

    layer = put(gz)
    cfg = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                          "rootfs": {"type": "layers",
                                     "diff_ids": ["sha256:" + hashlib.sha256(tarb).hexdigest()]}}).encode())
    man = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
                          "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
    with open(os.path.join(d, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [dict(man, mediaType="application/vnd.oci.image.manifest.v1+json",
                                                          annotations={"org.opencontainers.image.ref.name": "x"})]}, f)


if __name__ == "__main__":
    {"dom": dom, "png": png, "layout": layout}[sys.argv[1]](sys.argv[2])
