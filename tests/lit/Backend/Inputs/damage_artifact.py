"""usage: damage_artifact.py GOOD.vtc OUTDIR

Writes damaged copies of an artifact: magic.vtc (bad magic), version.vtc
(format version 7), truncated.vtc (last bytes cut), header.vtc (20 bytes),
entry.vtc (the manifest names an entry symbol the code lacks)."""
import os
import struct
import sys

good = open(sys.argv[1], "rb").read()
out = sys.argv[2]


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


write("magic.vtc", b"NOTVITC\0" + good[8:])
write("version.vtc", good[:8] + struct.pack("<I", 7) + good[12:])
write("truncated.vtc", good[:-10])
write("header.vtc", good[:20])
# The manifest comes last: rename its entry, keeping the length, so the
# manifest still parses but names a symbol the code does not define.
at = good.rindex(b"vitc_entry_main")
write("entry.vtc", good[:at] + b"vitc_entry_mian" + good[at + 15:])
