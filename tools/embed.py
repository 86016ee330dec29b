#!/usr/bin/env python3
"""Embeds a file into a C source as a NUL-terminated char array."""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by tools/embed.py */\n#include <stddef.h>\n' % src.split('/')[-1])
    f.write('const char %s[] = {\n' % name)
    for i in range(0, len(data), 16):
        f.write(''.join('0x%02x,' % b for b in data[i:i + 16]) + '\n')
    f.write('0x00};\nconst size_t %s_len = %d;\n' % (name, len(data)))
