#!/bin/sh
# tfevents_check.sh [BUILD] — an independent check of the event files nntrace
# writes: runs BUILD/examples/train_mlp into a temp dir, splits the file's
# TFRecord frames with a tiny reader of its own (Python, its own CRC-32C),
# decodes records with `protoc --decode_raw`, and checks the file name, the
# file_version record, a scalar's tag/step/value against what the program
# printed, a histogram, the confusion-matrix PNG and the text summary.  If
# the Python `tensorboard` package is importable, its EventAccumulator reads
# the run too.  Prints "tfevents-check: N passed, N failed"; exits non-zero
# on any failure.
build=${1:-build}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check NAME COMMAND...
    name=$1
    shift
    if "$@" >/dev/null 2>&1; then ok; else bad "$name"; fi
}
finish() {
    echo "tfevents-check: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

tmp=$(mktemp -d /tmp/tfevents_check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -x "$build/examples/train_mlp" ]; then
    bad "$build/examples/train_mlp not built (make examples)"
    finish
fi
if ! "$build/examples/train_mlp" "$tmp/run" --epochs 5 >"$tmp/stdout" 2>"$tmp/stderr"; then
    bad "train_mlp exited with an error: $(cat "$tmp/stderr")"
    finish
fi
ok

# exactly one file, named events.out.tfevents.<10 digits>.<host>.<pid>.<n>
n_files=$(ls "$tmp/run" | grep -c tfevents)
check "one event file (found $n_files)" test "$n_files" -eq 1
file=$(ls "$tmp/run"/events.out.tfevents.* 2>/dev/null | head -n 1)
check "file name pattern: $file" sh -c "basename '$file' | grep -Eq '^events\.out\.tfevents\.[0-9]{10}\.[^.].*\.[0-9]+\.[0-9]+$'"

# split the frames, checking both masked CRCs independently
if ! "$py" - "$file" "$tmp/rec" >"$tmp/split.txt" 2>&1 <<'EOF'
import struct, sys

def make_table():
    t = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t

TABLE = make_table()

def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF

def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF

assert crc32c(b"123456789") == 0xE3069283
path, prefix = sys.argv[1], sys.argv[2]
buf = open(path, "rb").read()
pos = n = 0
while pos < len(buf):
    if len(buf) - pos < 12:
        sys.exit("truncated header at %d" % pos)
    (length,) = struct.unpack_from("<Q", buf, pos)
    (lcrc,) = struct.unpack_from("<I", buf, pos + 8)
    if masked(buf[pos:pos + 8]) != lcrc:
        sys.exit("bad length crc at %d" % pos)
    data = buf[pos + 12:pos + 12 + length]
    if len(data) != length or len(buf) < pos + 16 + length:
        sys.exit("truncated record at %d" % pos)
    (dcrc,) = struct.unpack_from("<I", buf, pos + 12 + length)
    if masked(data) != dcrc:
        sys.exit("bad data crc at %d" % pos)
    open("%s_%d.bin" % (prefix, n), "wb").write(data)
    pos += 16 + length
    n += 1
print(n)
EOF
then
    bad "frame split: $(cat "$tmp/split.txt")"
    finish
fi
ok
n_rec=$(cat "$tmp/split.txt")
# 1 file_version + 5 epochs x (4 scalars + 3 histograms) + 2 images + 1 text
check "record count $n_rec = 39" test "$n_rec" -eq 39

if ! command -v protoc >/dev/null 2>&1; then
    bad "protoc not installed (apt-get install protobuf-compiler)"
    finish
fi
for i in $(seq 0 $((n_rec - 1))); do
    protoc --decode_raw <"$tmp/rec_$i.bin" >"$tmp/rec_$i.txt" 2>&1 || bad "protoc cannot decode record $i"
done

# record 0: Event { wall_time (1), file_version (3) = "brain.Event:2" }
check "file_version record" grep -q '^3: "brain.Event:2"' "$tmp/rec_0.txt"
check "file_version has wall_time" grep -q '^1: 0x' "$tmp/rec_0.txt"

# record 1: the first scalar, loss/train at step 1
cat >"$tmp/scalar.py" <<'EOF'
import re, struct, sys
text = open(sys.argv[1]).read()
want_tag, want_step, want_value = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
m = re.search(r'^1: (0x[0-9a-f]+)', text, re.M)
wall = struct.unpack("<d", struct.pack("<Q", int(m.group(1), 16)))[0]
assert wall > 1.6e9, wall
assert re.search(r'^2: %d$' % want_step, text, re.M), "step"
assert re.search(r'^5 \{\n  1 \{\n    1: "%s"\n    2: (0x[0-9a-f]+)' % re.escape(want_tag), text, re.M), "tag"
bits = re.search(r'    2: (0x[0-9a-f]+)', text).group(1)
value = struct.unpack("<f", struct.pack("<I", int(bits, 16)))[0]
assert abs(value - want_value) < 1e-4, (value, want_value)
EOF
loss1=$(awk '/^epoch 1\//{print $4}' "$tmp/stdout")
acc5=$(awk '/^epoch 5\//{print $10}' "$tmp/stdout")
check "scalar record 1: loss/train step 1 value $loss1" "$py" "$tmp/scalar.py" "$tmp/rec_1.txt" loss/train 1 "$loss1"
# records 2..4 are loss/val, accuracy/train, accuracy/val of epoch 1; epoch 5's accuracy/val is record 32
check "scalar record 32: accuracy/val step 5 value $acc5" "$py" "$tmp/scalar.py" "$tmp/rec_32.txt" accuracy/val 5 "$acc5"
check "scalar tags in order" sh -c "grep -q '\"loss/val\"' '$tmp/rec_2.txt' && grep -q '\"accuracy/train\"' '$tmp/rec_3.txt'"

# record 5: weights/fc1 histogram (Summary.Value.histo = field 5, 7 fields inside)
cat >"$tmp/histo.py" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
assert '1: "weights/fc1"' in text
m = re.search(r'^    5 \{\n((?:      .*\n)+)    \}', text, re.M)
body = m.group(1)
for f in ("1:", "2:", "3:", "4:", "5:", "6:", "7:"):
    assert re.search(r'^      %s' % f, body, re.M), f
EOF
check "histogram record (weights/fc1)" "$py" "$tmp/histo.py" "$tmp/rec_5.txt"

# the confusion matrix image: Summary.Image with a PNG of 144 x 144 RGB
cat >"$tmp/image.py" <<'EOF'
import struct, sys

def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v = buf[i:i + 8]; i += 8
        elif wt == 5:
            v = buf[i:i + 4]; i += 4
        elif wt == 2:
            n, i = varint(buf, i)
            v = buf[i:i + n]; i += n
        else:
            raise ValueError("wire type %d" % wt)
        yield num, v

def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]; i += 1
        v |= (b & 0x7F) << shift; shift += 7
        if not b & 0x80:
            return v, i

ev = open(sys.argv[1], "rb").read()
summary = dict(fields(ev))[5]
value = dict(fields(summary))[1]
val = dict(fields(value))
assert val[1] == b"confusion_matrix/val", val[1]
img = dict(fields(val[4]))
assert img[1] == 144 and img[2] == 144 and img[3] == 3, img
png = img[4]
assert png[:8] == b"\x89PNG\r\n\x1a\n"
w, h, depth, ctype = struct.unpack(">IIBB", png[16:26])
assert (w, h, depth, ctype) == (144, 144, 8, 2), (w, h, depth, ctype)
open(sys.argv[2], "wb").write(png)
EOF
img_rec=$(grep -l '"confusion_matrix/val"' "$tmp"/rec_*.txt | head -n 1)
img_rec=${img_rec%.txt}
check "confusion-matrix image record" "$py" "$tmp/image.py" "$img_rec.bin" "$tmp/confusion.png"
if command -v file >/dev/null 2>&1; then
    check "confusion PNG recognized by file(1)" sh -c "file '$tmp/confusion.png' | grep -q 'PNG image data, 144 x 144'"
fi

# the text summary: tensor DT_STRING (7) with plugin "text"
txt=$(grep -l '"summary"' "$tmp"/rec_*.txt | head -n 1)
check "text summary record has plugin text" grep -q '1: "text"' "$txt"
check "text summary tensor is DT_STRING" grep -q '^      1: 7$' "$txt"
check "text summary content" grep -q 'Validation confusion matrix' "$txt"

# typed decode against a schema with TensorBoard's field numbers: every field
# must land in a declared field of the declared type (unknown ones print as
# bare numbers, which fails the check)
cat >"$tmp/ev.proto" <<'EOF'
syntax = "proto3";
package ntcheck;
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message TensorShapeProto { message Dim { int64 size = 1; string name = 2; } repeated Dim dim = 2; bool unknown_rank = 3; }
message TensorProto {
  int32 dtype = 1; TensorShapeProto tensor_shape = 2; bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true]; repeated double double_val = 6 [packed = true];
  repeated bytes string_val = 8;
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1; string display_name = 2; string summary_description = 3; int32 data_class = 4;
}
message Summary {
  message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
  message Value {
    string tag = 1; SummaryMetadata metadata = 9;
    oneof value { float simple_value = 2; Image image = 4; HistogramProto histo = 5; TensorProto tensor = 8; }
  }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1; int64 step = 2;
  oneof what { string file_version = 3; bytes graph_def = 4; Summary summary = 5; }
}
EOF
typed_ok=1
for i in $(seq 0 $((n_rec - 1))); do
    if ! protoc -I"$tmp" --decode=ntcheck.Event "$tmp/ev.proto" <"$tmp/rec_$i.bin" >"$tmp/typed_$i.txt" 2>&1 ||
        grep -Eq '^ *[0-9]+:' "$tmp/typed_$i.txt"; then
        typed_ok=0
        echo "record $i does not decode cleanly as Event:"
        head -n 20 "$tmp/typed_$i.txt"
    fi
done
check "every record decodes as a typed Event with no unknown fields" test "$typed_ok" -eq 1
check "typed: file_version" grep -q '^file_version: "brain.Event:2"' "$tmp/typed_0.txt"
check "typed: loss/train tag" grep -q 'tag: "loss/train"' "$tmp/typed_1.txt"
typed_v=$(sed -n 's/^ *simple_value: //p' "$tmp/typed_1.txt")
check "typed: loss/train simple_value $typed_v ~ $loss1" awk -v a="$typed_v" -v b="$loss1" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-3 && d > -1e-3) }'

check "typed: 30 histogram bucket limits" test "$(grep -c 'bucket_limit:' "$tmp/typed_5.txt")" -eq 30
check "typed: 30 histogram buckets" test "$(grep -c ' bucket:' "$tmp/typed_5.txt")" -eq 30
check "typed: image colorspace 3" grep -q 'colorspace: 3' "$(grep -l 'confusion_matrix/val' "$tmp"/typed_*.txt | head -n 1)"
txt_typed=$(grep -l 'tag: "summary"' "$tmp"/typed_*.txt | head -n 1)
check "typed: text plugin" grep -q 'plugin_name: "text"' "$txt_typed"
check "typed: text data_class 2" grep -q 'data_class: 2' "$txt_typed"
check "typed: text dtype 7" grep -q 'dtype: 7' "$txt_typed"

# TensorBoard itself: the project's venv has it (scripts/setup.sh --test)
tbpy=$py
venv_py="$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/python"
[ -x "$venv_py" ] && tbpy=$venv_py
if "$tbpy" -c "import tensorboard" >/dev/null 2>&1; then
    if "$tbpy" - "$tmp/run" >"$tmp/tb.txt" 2>&1 <<'EOF'; then ok; else bad "EventAccumulator: $(tail -n 3 "$tmp/tb.txt")"; fi
import sys
from tensorboard.backend.event_processing import event_accumulator as ea
acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0})
acc.Reload()
tags = acc.Tags()
for t in ("loss/train", "loss/val", "accuracy/train", "accuracy/val"):
    assert t in tags["scalars"], tags
    assert len(acc.Scalars(t)) == 5
assert "weights/fc1" in tags["histograms"]
assert "confusion_matrix/val" in tags["images"]
EOF
else
    echo "note: python tensorboard not installed; EventAccumulator check skipped"
fi

finish
